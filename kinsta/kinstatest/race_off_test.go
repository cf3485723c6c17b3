//go:build !race

package kinstatest

const raceEnabled = false
