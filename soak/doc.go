// Package soak runs the real exporter binary against a fake Kinsta API that
// injects a random fault or hostile answer (a site with a 100 KB id and
// hundreds or thousands of labels) into most requests, with an activity log
// of hundreds of operation types, under 50 concurrent scrapers and a client
// cycling every Accept variant, and checks what an operator relies on: no
// 5xx, every scrape answered within its deadline, no panic, goroutines and
// memory back to their baseline and peak RSS under 200 MB, the API key never
// sent to another host after a redirect, and never more API calls than
// --kinsta.rate-limit allows. TestSoakHostile serves each hostile answer to
// the exporter at its default flags and checks peak RSS and the size of the
// exposition. Loopback only; it stops by itself. The tests are behind the
// soak build tag:
//
//	make soak                      # SOAK_DURATION=10m
//	SOAK_DURATION=60s make soak    # what CI runs
package soak
