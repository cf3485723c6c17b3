//go:build race

package kinstatest

// raceEnabled: the race detector makes encoding 20 MB of JSON ~25x slower, so the
// largest tests shrink under -race.
const raceEnabled = true
