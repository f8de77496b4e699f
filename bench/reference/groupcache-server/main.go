// Command groupcache-server is Go groupcache run the way the bench runs a geecache pod: a peer
// port (groupcache's HTTPPool) and an API port answering GET /api?key=K, loading misses from the
// bench's origin. It is the reference the bench compares geecache's peer hop with; it is never
// part of geecache itself.
//
// Usage: groupcache-server -self http://127.0.0.1:P -peers URL,URL -api 127.0.0.1:Q -origin URL [-cache-bytes N]
// Prints "listening" once both ports accept connections.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/golang/groupcache"
)

func main() {
	self := flag.String("self", "", "this process's peer base URL, e.g. http://127.0.0.1:8001")
	peers := flag.String("peers", "", "every peer base URL, comma-separated (including -self)")
	apiAddr := flag.String("api", "", "host:port for GET /api?key=K")
	origin := flag.String("origin", "", "origin base URL: a miss loads GET <origin>/<escaped key>")
	cacheBytes := flag.Int64("cache-bytes", 64<<20, "cache budget (main + hot)")
	idlePerHost := flag.Int("idle-per-host", 64, "kept-alive connections per peer; Go's default of 2 makes a loaded peer hop reconnect for nearly every request")
	flag.Parse()
	if *self == "" || *apiAddr == "" || *origin == "" {
		flag.Usage()
		os.Exit(2)
	}
	selfURL, err := url.Parse(*self)
	if err != nil {
		log.Fatalf("-self: %v", err)
	}

	client := &http.Client{Timeout: 2 * time.Second}
	group := groupcache.NewGroup("bench", *cacheBytes, groupcache.GetterFunc(func(ctx context.Context, key string, dest groupcache.Sink) error {
		res, err := client.Get(*origin + "/" + url.PathEscape(key))
		if err != nil {
			return err
		}
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		if err != nil {
			return err
		}
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("origin answered %d", res.StatusCode)
		}
		return dest.SetBytes(body)
	}))

	pool := groupcache.NewHTTPPool(*self) // registers on http.DefaultServeMux
	peerTransport := http.DefaultTransport.(*http.Transport).Clone()
	peerTransport.MaxIdleConnsPerHost = *idlePerHost
	peerTransport.MaxIdleConns = 0
	pool.Transport = func(context.Context) http.RoundTripper { return peerTransport }
	pool.Set(strings.Split(*peers, ",")...)

	api := http.NewServeMux()
	api.HandleFunc("/api", func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Query().Get("key")
		if key == "" {
			http.Error(w, "key is required", http.StatusBadRequest)
			return
		}
		var value []byte
		if err := group.Get(r.Context(), key, groupcache.AllocatingByteSliceSink(&value)); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write(value)
	})
	api.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ready\n") })
	// The four counters the bench reports per pod, named as geecache's /metrics has them.
	api.HandleFunc("/stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]int64{
			"localLoads": group.Stats.LocalLoads.Get(),
			"peerLoads":  group.Stats.PeerLoads.Get(),
			"mainHits":   group.CacheStats(groupcache.MainCache).Hits,
			"hotHits":    group.CacheStats(groupcache.HotCache).Hits,
		})
	})

	peerListener, err := net.Listen("tcp", selfURL.Host)
	if err != nil {
		log.Fatalf("peer port: %v", err)
	}
	apiListener, err := net.Listen("tcp", *apiAddr)
	if err != nil {
		log.Fatalf("api port: %v", err)
	}
	fmt.Println("listening")
	go func() { log.Fatal(http.Serve(peerListener, nil)) }()
	log.Fatal(http.Serve(apiListener, api))
}
