package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/posagent/posagent/configs"
	"github.com/posagent/posagent/store/sqlite"
)

// runBackup writes an online, consistent copy of the payment journal: the
// daemon may keep running and journaling while it is taken.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("backup", stderr)
	cfgPath := fs.String("config", "/etc/posagent/posagent.yaml", "configuration file naming the state directory")
	state := fs.String("state", "", "state directory holding journal.db (instead of --config)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: posagent backup [--config FILE | --state DIR] BACKUP_FILE")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return usageError("backup needs the file to write, e.g. posagent backup /var/backups/posagent-$(date +%%F).db")
	}
	dir := *state
	if dir == "" {
		cfg, err := configs.Load(*cfgPath)
		if err != nil {
			return &exitError{code: 2, err: err}
		}
		dir = cfg.StateDir
	}
	journal := filepath.Join(dir, "journal.db")
	if _, err := os.Stat(journal); err != nil {
		return &exitError{code: 1, err: fmt.Errorf("no journal at %s: %w", journal, err)}
	}
	dest := fs.Arg(0)
	if err := sqlite.Backup(ctx, journal, dest); err != nil {
		return &exitError{code: 1, err: err}
	}
	fi, err := os.Stat(dest)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "journal %s backed up to %s (%d bytes, integrity checked)\n", journal, dest, fi.Size())
	return nil
}
