package connector

import (
	"fmt"
	"io"
	"os"
)

// Bounds of the files a catalog's connector settings name. The catalog names the path and
// the server reads it: /dev/zero would fill the server's memory, a FIFO would hang the
// connector (and the reconcile or `systems test` that opened it) forever.
const (
	maxCAFile     = 1 << 20  // a PEM bundle of a few hundred CAs
	maxSecretFile = 64 << 10 // a password, a token, a key
)

// ReadCAFile reads a connector's ca_file: a regular file of at most 1 MiB. Errors name the
// path, never the content.
func ReadCAFile(name string) ([]byte, error) {
	return readRegular(name, maxCAFile)
}

// readRegular reads name, which must be a regular file (links followed) of at most max bytes.
func readRegular(name string, max int64) ([]byte, error) {
	fi, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", name)
	}
	if fi.Size() > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, max)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1)) // the file may have grown since Stat
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, max)
	}
	return b, nil
}
