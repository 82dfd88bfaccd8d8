// Package templates keeps each channel's message templates as its provider lists them (synced on start,
// periodically, on demand and when a template status webhook arrives) and checks template sends against them
// before the provider is called: the template exists in that language, is approved, and the parameters match
// each component. It also renders the text a template send puts on the contact's screen.
package templates

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wagate/wagate/internal/provider"
	"github.com/wagate/wagate/internal/store"
	"github.com/wagate/wagate/internal/wa"
)

// ErrCannotList is returned when a channel's provider cannot list templates.
var ErrCannotList = errors.New("the channel's provider cannot list templates")

// ErrUnknownChannel is returned for a channel that is not configured.
var ErrUnknownChannel = errors.New("unknown channel")

// SyncTimeout bounds one channel's sync.
const SyncTimeout = time.Minute

// reloadEvery is how stale the in-memory set may get before it is read again from the database, so that an
// instance that did not run a sync itself (the periodic sync runs on one instance) sees its result.
const reloadEvery = 30 * time.Second

// Ref names an approved template, for people choosing one.
type Ref struct {
	Name     string `json:"name"`
	Language string `json:"language"`
	Category string `json:"category,omitempty"`
}

// set is one channel's synced templates.
type set struct {
	byKey    map[string]*definition // name + "\x00" + language
	byName   map[string][]string    // name -> languages
	approved []Ref
	syncedAt time.Time
}

func key(name, lang string) string { return name + "\x00" + lang }

func newSet(list []wa.Template, at time.Time) *set {
	s := &set{byKey: make(map[string]*definition, len(list)), byName: map[string][]string{}, syncedAt: at}
	for _, t := range list {
		s.byKey[key(t.Name, t.Language)] = compile(t)
		s.byName[t.Name] = append(s.byName[t.Name], t.Language)
		if t.Status == wa.TemplateApproved {
			s.approved = append(s.approved, Ref{Name: t.Name, Language: t.Language, Category: t.Category})
		}
	}
	sort.Slice(s.approved, func(i, j int) bool {
		a, b := s.approved[i], s.approved[j]
		return a.Name < b.Name || a.Name == b.Name && a.Language < b.Language
	})
	for _, l := range s.byName {
		sort.Strings(l)
	}
	return s
}

// Catalogue is the synced templates of every channel, in memory, backed by the store. It is safe for
// concurrent use.
type Catalogue struct {
	st       *store.Store
	listers  map[string]provider.TemplateLister
	channels []string
	log      *slog.Logger
	now      func() time.Time

	mu       sync.RWMutex
	sets     map[string]*set // absent: never synced
	loadedAt atomic.Int64    // unix nanoseconds of the last Load
	loading  atomic.Bool
	syncing  sync.Map // channel -> *sync.Mutex: one sync per channel at a time
}

// New returns a catalogue of the configured channels (the default first); each provider that implements
// provider.TemplateLister can be synced. Call Load before use.
func New(st *store.Store, channels []string, providers map[string]provider.Provider, log *slog.Logger) *Catalogue {
	c := &Catalogue{st: st, listers: map[string]provider.TemplateLister{}, channels: channels, log: log, now: time.Now, sets: map[string]*set{}}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	for name, p := range providers {
		if l, ok := p.(provider.TemplateLister); ok {
			c.listers[name] = l
		}
	}
	return c
}

// Channels returns the configured channel names, the default first.
func (c *Catalogue) Channels() []string { return c.channels }

// Load reads every channel's synced templates from the store, keeping sets synced here more recently.
func (c *Catalogue) Load(ctx context.Context) error {
	syncs, err := c.st.TemplateSyncs(ctx)
	if err != nil {
		return err
	}
	all, err := c.st.TemplateList(ctx, "")
	if err != nil {
		return err
	}
	by := map[string][]wa.Template{}
	for _, t := range all {
		by[t.Channel] = append(by[t.Channel], t.Template)
	}
	c.mu.Lock()
	for _, s := range syncs {
		// A set this instance synced after the read above began is newer than what was read: keep it.
		if cur := c.sets[s.Channel]; cur == nil || s.SyncedAt.After(cur.syncedAt) {
			c.sets[s.Channel] = newSet(by[s.Channel], s.SyncedAt)
		}
	}
	c.mu.Unlock()
	c.loadedAt.Store(c.now().UnixNano())
	return nil
}

// refresh reloads from the store in the background when the in-memory set is stale.
func (c *Catalogue) refresh() {
	if time.Duration(c.now().UnixNano()-c.loadedAt.Load()) < reloadEvery || !c.loading.CompareAndSwap(false, true) {
		return
	}
	go func() {
		defer c.loading.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Load(ctx); err != nil {
			c.log.Warn("template reload failed", "err", err)
		}
	}()
}

func (c *Catalogue) set(channel string) *set {
	c.refresh()
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.sets[channel]
}

// SyncResult is the outcome of one channel's sync.
type SyncResult struct {
	Channel  string    `json:"channel"`
	Count    int       `json:"count"`
	Approved int       `json:"approved"`
	SyncedAt time.Time `json:"synced_at,omitzero"`
	Error    string    `json:"error,omitempty"`
}

// Sync reads channel's templates from its provider, stores them (replacing the previous set) and installs
// them in memory. Concurrent syncs of one channel run one after the other.
func (c *Catalogue) Sync(ctx context.Context, channel string) (SyncResult, error) {
	if !contains(c.channels, channel) {
		return SyncResult{Channel: channel}, fmt.Errorf("template sync: %w %q", ErrUnknownChannel, channel)
	}
	l, ok := c.listers[channel]
	if !ok {
		return SyncResult{Channel: channel}, fmt.Errorf("template sync %s: %w", channel, ErrCannotList)
	}
	mu, _ := c.syncing.LoadOrStore(channel, &sync.Mutex{})
	mu.(*sync.Mutex).Lock()
	defer mu.(*sync.Mutex).Unlock()
	lctx, cancel := context.WithTimeout(ctx, SyncTimeout)
	list, err := l.Templates(lctx)
	cancel()
	if err != nil {
		return SyncResult{Channel: channel}, fmt.Errorf("template sync %s: %w", channel, err)
	}
	list = dedupe(list)
	at := c.now()
	s := newSet(list, at)
	c.mu.RLock()
	prev := c.sets[channel]
	c.mu.RUnlock()
	// The new set is installed before the commit, so that nobody who reads the templates from the database (the
	// API's list, another part of this instance) can see them there before a send can use them; a failed commit
	// puts the previous set back.
	err = c.st.InTx(ctx, func(tx store.Tx) error {
		if err := c.st.TemplateReplace(ctx, tx, channel, list); err != nil {
			return err
		}
		c.mu.Lock()
		c.sets[channel] = s
		c.mu.Unlock()
		return nil
	})
	if err != nil {
		c.mu.Lock()
		if c.sets[channel] == s {
			c.sets[channel] = prev
		}
		c.mu.Unlock()
		return SyncResult{Channel: channel}, fmt.Errorf("template sync %s: %w", channel, err)
	}
	res := SyncResult{Channel: channel, Count: len(list), Approved: len(s.approved), SyncedAt: at}
	c.log.Info("templates synced", "channel", channel, "templates", res.Count, "approved", res.Approved)
	return res, nil
}

// dedupe keeps the first of templates listed twice under one name and language.
func dedupe(list []wa.Template) []wa.Template {
	seen := make(map[string]bool, len(list))
	out := list[:0:0]
	for _, t := range list {
		if k := key(t.Name, t.Language); !seen[k] {
			seen[k] = true
			out = append(out, t)
		}
	}
	return out
}

// SyncAll syncs every channel whose provider can list templates; one channel's failure does not stop the
// others and is reported in its result.
func (c *Catalogue) SyncAll(ctx context.Context) []SyncResult {
	out := []SyncResult{}
	for _, ch := range c.channels {
		if _, ok := c.listers[ch]; !ok {
			continue
		}
		res, err := c.Sync(ctx, ch)
		if err != nil {
			res.Error = err.Error()
			c.log.Warn("template sync failed", "channel", ch, "err", err)
		}
		out = append(out, res)
	}
	return out
}

// Approved returns the approved templates of channel, by name and language.
func (c *Catalogue) Approved(channel string) []Ref {
	s := c.set(channel)
	if s == nil {
		return nil
	}
	return append([]Ref(nil), s.approved...)
}

// Synced reports whether channel's templates were ever synced.
func (c *Catalogue) Synced(channel string) bool { return c.set(channel) != nil }

// Check is the preflight of a send on channel: for a template message it checks that the template exists in
// that language, is approved, and that the parameters match each component, returning an *Error naming what
// is wrong. Other message types, and channels whose templates were never synced, pass.
func (c *Catalogue) Check(channel string, m wa.Outbound) error {
	if m.Type != "template" {
		return nil
	}
	s := c.set(channel)
	if s == nil {
		return nil
	}
	r, err := parseRequest(m.Content)
	if err != nil {
		return err
	}
	return s.check(channel, r)
}

func (s *set) check(channel string, r request) error {
	d, ok := s.byKey[key(r.Name, r.Language.Code)]
	if !ok {
		return &Error{Code: CodeNotFound, Channel: channel, Template: r.Name, Language: r.Language.Code, Languages: s.byName[r.Name]}
	}
	if d.t.Status != wa.TemplateApproved {
		return &Error{Code: CodeNotApproved, Channel: channel, Template: r.Name, Language: r.Language.Code, Status: d.t.Status}
	}
	if probs := d.check(r); len(probs) > 0 {
		return &Error{Code: CodeParams, Channel: channel, Template: r.Name, Language: r.Language.Code, Problems: probs}
	}
	return nil
}

// Preflight is Check and Render in one reading of the message: the text to store on the message ("" for
// other types and unknown templates), or the *Error that refuses it.
func (c *Catalogue) Preflight(channel string, m wa.Outbound) (string, error) {
	if m.Type != "template" {
		return "", nil
	}
	s := c.set(channel)
	if s == nil {
		return "", nil
	}
	r, err := parseRequest(m.Content)
	if err != nil {
		return "", err
	}
	if err := s.check(channel, r); err != nil {
		return "", err
	}
	return s.byKey[key(r.Name, r.Language.Code)].render(r), nil
}

// Render returns the text a template send on channel shows the contact (header, body and footer with the
// parameters filled in), or "" when the message is not a template or the template is not known.
func (c *Catalogue) Render(channel string, m wa.Outbound) string {
	if m.Type != "template" {
		return ""
	}
	s := c.set(channel)
	if s == nil {
		return ""
	}
	r, err := parseRequest(m.Content)
	if err != nil {
		return ""
	}
	d, ok := s.byKey[key(r.Name, r.Language.Code)]
	if !ok {
		return ""
	}
	return d.render(r)
}

// Namespace returns the On-Premise namespace of a synced template, or "".
func (c *Catalogue) Namespace(channel, name, lang string) string {
	s := c.set(channel)
	if s == nil {
		return ""
	}
	if d, ok := s.byKey[key(name, lang)]; ok {
		return d.t.Namespace
	}
	return ""
}
