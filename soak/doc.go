// Package soak runs the real exporter binary against a fake Kinsta API that
// injects a random fault into most requests, under 50 concurrent scrapers, and
// checks what an operator relies on: no 5xx, every scrape answered within its
// deadline, no panic, goroutines and memory back to their baseline, the API
// key never sent to another host after a redirect, and never more API calls
// than --kinsta.rate-limit allows. Loopback only; it stops by itself. The
// test is behind the soak build tag:
//
//	make soak                      # SOAK_DURATION=10m
//	SOAK_DURATION=60s make soak    # what CI runs
package soak
