// Command ring-vectors prints, as JSON, the owner that Go groupcache's
// consistenthash picks for a fixed set of keys and peer lists. The TypeScript
// ring's tests compare against its committed output (test/fixtures/ring-vectors.json).
// Regenerate: cd test/reference/ring-vectors && go run . > ../../fixtures/ring-vectors.json
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/golang/groupcache/consistenthash"
)

type vector struct {
	Replicas int               `json:"replicas"`
	Peers    []string          `json:"peers"`
	Owners   map[string]string `json:"owners"`
}

func main() {
	keys := []string{"Tom", "Jack", "Sam", "kkk", "", "a", "hello", "user:42", "日本語", "key with spaces", "/slash/", "99"}
	for i := 0; i < 20; i++ {
		keys = append(keys, fmt.Sprintf("key-%d", i))
	}
	peerSets := [][]string{
		{"http://127.0.0.1:8001", "http://127.0.0.1:8002", "http://127.0.0.1:8003"},
		{"http://10.0.0.1:8001", "http://10.0.0.2:8001", "http://10.0.0.3:8001", "http://10.0.0.4:8001"},
		{"http://geecache-0.geecache-peers:8001"},
	}
	var out []vector
	for _, replicas := range []int{50, 3} {
		for _, peers := range peerSets {
			sorted := append([]string(nil), peers...)
			sort.Strings(sorted)
			m := consistenthash.New(replicas, nil)
			m.Add(sorted...)
			owners := map[string]string{}
			for _, k := range keys {
				owners[k] = m.Get(k)
			}
			out = append(out, vector{Replicas: replicas, Peers: sorted, Owners: owners})
		}
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		panic(err)
	}
}
