package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/posagent/posagent/flows"
)

// loadOrCreateSecret reads a hex secret from path, creating it (0600, in a
// 0700 directory) with n random bytes when absent. An existing file readable
// by group or others is refused: the API token and the code-hash key are
// the daemon's own secrets.
func loadOrCreateSecret(path string, n int) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		if err := checkPrivate(path); err != nil {
			return "", err
		}
		s := strings.TrimSpace(string(b))
		if len(s) < 16 {
			return "", fmt.Errorf("%s: secret is too short (%d characters)", path, len(s))
		}
		return s, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	raw := make([]byte, n)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	s := hex.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	return s, f.Close()
}

func checkPrivate(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%s is readable by group or others (mode %04o); run: chmod 600 %s", path, st.Mode().Perm(), path)
	}
	return nil
}

// loadOrCreateNumberPrefix reads this install's order-number prefix from
// path, drawing and saving one (flows.NewNumberPrefix) when absent. It is
// not a secret; it only has to stay the same for the life of the install
// and differ between the tills of one merchant, so every order and refund
// number is unique per merchant (flows/ids.go).
func loadOrCreateNumberPrefix(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if err := flows.CheckNumberPrefix(s); err != nil {
			return "", fmt.Errorf("%s: %w", path, err)
		}
		return s, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	s := flows.NewNumberPrefix()
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return "", err
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", err
	}
	return s, nil
}
