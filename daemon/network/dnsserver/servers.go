package dnsserver

import (
	"errors"
	"sync"
)

// Servers are the DNS servers of a daemon's user networks, over one Table.
type Servers struct {
	Table *Table

	mu      sync.Mutex // guards servers
	servers map[string]*Server
}

// NewServers returns a set with no server.
func NewServers() *Servers {
	return &Servers{Table: NewTable(), servers: map[string]*Server{}}
}

// StartNetwork starts the server of cfg.Network; one running already with
// the same address is kept, one on another address replaced.
func (s *Servers) StartNetwork(cfg Config) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.servers[cfg.Network]; ok {
		if old.cfg.Addr == cfg.Addr || (cfg.Addr.Port() == 0 && old.cfg.Addr.Addr() == cfg.Addr.Addr()) {
			return nil
		}
		old.Close()
		delete(s.servers, cfg.Network)
	}
	srv, err := Start(s.Table, cfg)
	if err != nil {
		return err
	}
	s.servers[cfg.Network] = srv
	return nil
}

// StopNetwork stops the server of a network and forgets its endpoints.
func (s *Servers) StopNetwork(network string) error {
	s.mu.Lock()
	srv := s.servers[network]
	delete(s.servers, network)
	s.mu.Unlock()
	s.Table.RemoveNetwork(network)
	if srv == nil {
		return nil
	}
	return srv.Close()
}

// Close stops every server.
func (s *Servers) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for id, srv := range s.servers {
		errs = append(errs, srv.Close())
		delete(s.servers, id)
	}
	return errors.Join(errs...)
}
