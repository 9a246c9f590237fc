package caselog

import (
	"os"

	bolt "go.etcd.io/bbolt"
)

type boltTx = bolt.Tx

func writeFile(path string, b []byte) error { return os.WriteFile(path, b, 0o600) }
