package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/s2skit/s2s"
	"github.com/s2skit/s2s/postback"
)

// sign is "tracker sign": it prints the URL of a postback signed with the s2s v1 scheme by
// the first key of a signed_query source of the configuration, as that source's sender
// would sign it, for curl:
//
//	curl -si "$(go run ./examples/tracker sign 'click_id=...&event=ftd&amount=150.00&currency=EUR&txn_id=T-1&player_id=p-1')"
func sign(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tracker sign", flag.ContinueOnError)
	fs.SetOutput(stderr)
	config := fs.String("config", defaultConfig, "the configuration `file`")
	source := fs.String("source", "casino", "the `name` of a signed_query source")
	base := fs.String("base", "http://127.0.0.1:8080", "the tracker's base `URL`")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: tracker sign [flags] 'query' (click_id=...&event=ftd&...)")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("sign: one query is required")
	}
	b, err := os.ReadFile(*config)
	if err != nil {
		return err
	}
	var cfg s2s.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return err
	}
	for _, src := range cfg.Sources {
		if src.Name != *source {
			continue
		}
		if src.Auth.Method != postback.MethodSignedQuery || len(src.Auth.Keys) == 0 {
			return fmt.Errorf("sign: source %q does not sign its queries (auth method %s)", src.Name, src.Auth.Method)
		}
		k := src.Auth.Keys[0]
		path := "/postback/" + src.Name
		q, err := postback.SignQuery(path, fs.Arg(0), postback.Key{ID: k.ID, Secret: []byte(k.Secret)}, time.Now())
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s%s?%s\n", strings.TrimSuffix(*base, "/"), path, q)
		return err
	}
	return fmt.Errorf("sign: no source %q in %s", *source, *config)
}
