package main

import (
	"bufio"
	"bytes"
	"compress/zlib"
	bin "encoding/binary"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/posagent/posagent/gateways/allpay/allpaysim"
	"github.com/posagent/posagent/gateways/mmsp/mmspsim"
	"github.com/posagent/posagent/gateways/swiftpass/swiftpasssim"
)

// TestSecretsNeverLeak runs the tour on every gateway with debug logging,
// then the daemon again on the same state to read the API's answers and
// the event stream, and sweeps everything the run left for every full
// payment code the tours use, every signing key and the API token: the
// journal and its WAL, the simulators' ledgers, receipts (.bin, .txt and
// the PNGs' text chunks), the logs, the API answers and the events. The
// files that are a secret's own home (the token file, key files) are the
// only places it may be.
func TestSecretsNeverLeak(t *testing.T) {
	codes := tourCodes(t)
	if len(codes) < 8 {
		t.Fatalf("found only %d payment codes in the tour's sources", len(codes))
	}
	kinds := make([]string, 0, len(simulatedKinds))
	for k := range simulatedKinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			state := t.TempDir()
			logs, err := exec.Command(binary(t), "demo", "--tour", "--gateway", kind, "--state", state, "--listen", freePort(t), "--log-level", "debug").CombinedOutput()
			if err != nil {
				t.Fatalf("demo --tour --gateway %s: %v\n%s", kind, err, logs)
			}
			a := startDemoArgs(t, state, freePort(t), []string{"--gateway", kind})
			api := apiAnswers(t, a)
			a.kill()

			secrets := map[string]string{}
			for _, c := range codes {
				secrets[c] = "payment code " + c[:4] + "…"
			}
			for name, k := range map[string]string{"MMSP key": string(mmspsim.TestKey), "Swiftpass key": string(swiftpasssim.TestKey), "AllPay key": string(allpaysim.TestKey)} {
				secrets[k] = name
			}
			token := strings.TrimSpace(readFile(t, filepath.Join(state, "api.token")))
			secrets[token] = "API token"
			homes := map[string]bool{filepath.Join(state, "api.token"): true, filepath.Join(state, "code-hash.key"): true}
			// RSA keys the simulators generated: their PEM bodies are
			// secrets; the files themselves are their homes.
			_ = filepath.WalkDir(state, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return nil
				}
				b, _ := os.ReadFile(p)
				if blk, _ := pem.Decode(b); blk != nil && strings.Contains(blk.Type, "PRIVATE KEY") {
					homes[p] = true
					body := strings.ReplaceAll(string(b[bytes.Index(b, []byte("\n"))+1:]), "\n", "")
					secrets[body[:48]] = "private key in " + filepath.Base(p)
				} else if strings.HasSuffix(p, ".key") {
					homes[p] = true
				}
				return nil
			})

			sweep := func(where string, text []byte) {
				for s, what := range secrets {
					if bytes.Contains(text, []byte(s)) {
						t.Errorf("%s holds the %s", where, what)
					}
				}
			}
			sweep("the logs", logs)
			sweep("the API's answers and events", api)
			files := 0
			_ = filepath.WalkDir(state, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() || homes[p] {
					return nil
				}
				b, err := os.ReadFile(p)
				if err != nil {
					return nil
				}
				files++
				rel, _ := filepath.Rel(state, p)
				sweep(rel, b)
				if strings.HasSuffix(p, ".png") {
					sweep(rel+" (text chunks)", pngText(t, b))
				}
				return nil
			})
			if files < 5 {
				t.Errorf("only %d files swept: the tour left no journal or receipts?", files)
			}
		})
	}
}

// tourCodes are the full payment codes the tours send: every 18- or
// 19-digit literal in their sources.
func tourCodes(t *testing.T) []string {
	t.Helper()
	var out []string
	seen := map[string]bool{}
	files, _ := filepath.Glob("tour*.go")
	re := regexp.MustCompile(`"(\d{18,19})"`)
	for _, f := range files {
		for _, m := range re.FindAllStringSubmatch(readFile(t, f), -1) {
			if !seen[m[1]] {
				seen[m[1]] = true
				out = append(out, m[1])
			}
		}
	}
	return out
}

// apiAnswers collects what the API hands out: every payment page and the
// event stream from the start.
func apiAnswers(t *testing.T, a *agent) []byte {
	t.Helper()
	var all bytes.Buffer
	get := func(path string) []byte {
		req, _ := http.NewRequest("GET", "http://"+a.addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+a.token())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return b
	}
	all.Write(get("/v1/payments?limit=100"))
	for _, p := range a.payments() {
		id, _ := p["id"].(string)
		all.Write(get("/v1/payments/" + id))
		all.Write(get("/v1/payments/" + id + "/events"))
	}
	// The event stream: read what is there, then stop.
	req, _ := http.NewRequest("GET", "http://"+a.addr+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+a.token())
	req.Header.Set("Last-Event-ID", "0")
	client := &http.Client{Timeout: 3 * time.Second}
	if resp, err := client.Do(req); err == nil {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			all.Write(sc.Bytes())
			all.WriteByte('\n')
		}
		resp.Body.Close()
	}
	if all.Len() < 1000 {
		t.Errorf("the API answered only %d bytes: nothing to sweep", all.Len())
	}
	return all.Bytes()
}

// pngText is the text of a PNG's tEXt, zTXt and iTXt chunks, decompressed.
func pngText(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if len(b) < 8 {
		return nil
	}
	for p := 8; p+12 <= len(b); {
		n := int(bin.BigEndian.Uint32(b[p:]))
		typ := string(b[p+4 : p+8])
		if p+12+n > len(b) {
			break
		}
		data := b[p+8 : p+8+n]
		switch typ {
		case "tEXt", "iTXt":
			out.Write(data)
		case "zTXt":
			if i := bytes.IndexByte(data, 0); i >= 0 && i+2 <= len(data) {
				if r, err := zlib.NewReader(bytes.NewReader(data[i+2:])); err == nil {
					text, _ := io.ReadAll(r)
					out.Write(text)
				}
			}
		}
		p += 12 + n
	}
	return out.Bytes()
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
