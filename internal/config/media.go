package config

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ParseRetention reads a media retention: a number of days ("90d"), a Go duration of at least an hour
// ("720h"), or "0", "off" or "forever" to keep media forever (0).
func ParseRetention(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	switch s {
	case "", "0", "off", "forever", "never":
		return 0, nil
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil || n <= 0 || n > 36500 {
			return 0, fmt.Errorf("%q is not a number of days from 1d to 36500d", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a retention: use days (90d), a duration (720h) or off", s)
	}
	if d > 0 && d < time.Hour {
		return 0, fmt.Errorf("%q is shorter than an hour, the least retention", s)
	}
	return d, nil
}

// MediaDir is where stored media live: <DataDir>/media.
func (c *Config) MediaDir() string { return filepath.Join(c.DataDir, "media") }
