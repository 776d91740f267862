package container

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/containerd/errdefs"
)

// Store indexes containers by ID and name. It does not persist anything.
type Store struct {
	mu    sync.RWMutex
	byID  map[string]*Container
	names map[string]string // "/name" -> ID
}

// NewStore returns an empty store.
func NewStore() *Store {
	return &Store{byID: map[string]*Container{}, names: map[string]string{}}
}

// Reserve claims a name for id; a name in use is a conflict with Docker's
// message.
func (s *Store) Reserve(name, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if other, ok := s.names[name]; ok && other != id {
		return fmt.Errorf("Conflict. The container name %q is already in use by container %q. You have to remove (or rename) that container to be able to reuse that name.: %w", name, other, errdefs.ErrConflict)
	}
	s.names[name] = id
	return nil
}

// Release frees a name.
func (s *Store) Release(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.names, name)
}

// Add puts c into the store; its name must have been reserved.
func (s *Store) Add(c *Container) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.byID[c.ID] = c
	s.names[c.Name] = c.ID
}

// Delete removes c and frees its name.
func (s *Store) Delete(c *Container) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byID, c.ID)
	if s.names[c.Name] == c.ID {
		delete(s.names, c.Name)
	}
}

// Get resolves a full ID, a name (with or without "/") or a unique ID
// prefix, in that order, as Docker does.
func (s *Store) Get(ref string) (*Container, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if ref == "" {
		return nil, fmt.Errorf("No such container: %s: %w", ref, errdefs.ErrNotFound)
	}
	if c, ok := s.byID[ref]; ok {
		return c, nil
	}
	name := ref
	if !strings.HasPrefix(name, "/") {
		name = "/" + name
	}
	if id, ok := s.names[name]; ok {
		if c, ok := s.byID[id]; ok {
			return c, nil
		}
	}
	var found *Container
	for id, c := range s.byID {
		if strings.HasPrefix(id, ref) {
			if found != nil {
				return nil, fmt.Errorf("multiple IDs found with provided prefix: %s: %w", ref, errdefs.ErrInvalidArgument)
			}
			found = c
		}
	}
	if found == nil {
		return nil, fmt.Errorf("No such container: %s: %w", ref, errdefs.ErrNotFound)
	}
	return found, nil
}

// List returns all containers, newest first.
func (s *Store) List() []*Container {
	s.mu.RLock()
	out := make([]*Container, 0, len(s.byID))
	for _, c := range s.byID {
		out = append(out, c)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	return out
}
