package command

import (
	"io"
	"os"
	"sync"

	"github.com/moby/moby/client"
)

// DefaultHost is the daemon address used when neither -H nor BERTH_HOST is set.
const DefaultHost = "unix:///run/berth.sock"

// HostEnv names the environment variable that overrides DefaultHost.
const HostEnv = "BERTH_HOST"

// ProgramName is the name used in messages such as "berth: Error response ...".
const ProgramName = "berth"

// Version is the CLI version reported by `berth version`; set by the linker.
var Version = "dev"

// GitCommit is the commit berth was built from; set by the linker.
var GitCommit = "unknown"

// Cli is the environment of one berth invocation: its standard streams and
// the Engine API client for the daemon at Host.
type Cli struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer

	// Host is the daemon address (-H); empty means DefaultHost.
	Host string

	// NewClient creates the API client; tests replace it.
	NewClient func(host string) (client.APIClient, error)

	once      sync.Once
	apiClient client.APIClient
	clientErr error
}

// NewCli returns a Cli on the process's standard streams.
func NewCli() *Cli {
	return &Cli{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}
}

// Client returns the API client, creating it on first use.
func (c *Cli) Client() (client.APIClient, error) {
	c.once.Do(func() {
		host := c.Host
		if host == "" {
			host = DefaultHost
		}
		newClient := c.NewClient
		if newClient == nil {
			newClient = defaultClient
		}
		c.apiClient, c.clientErr = newClient(host)
	})
	return c.apiClient, c.clientErr
}

func defaultClient(host string) (client.APIClient, error) {
	return client.New(client.WithHost(host), client.WithUserAgent(ProgramName+"-cli/"+Version))
}

// Close releases the API client, if one was created.
func (c *Cli) Close() error {
	if c.apiClient != nil {
		return c.apiClient.Close()
	}
	return nil
}

// InFd returns the file descriptor of stdin and whether it is a terminal.
func (c *Cli) InFd() (uintptr, bool) {
	f, ok := c.In.(*os.File)
	if !ok {
		return 0, false
	}
	return f.Fd(), IsTerminal(f.Fd())
}

// OutFd returns the file descriptor of stdout and whether it is a terminal.
func (c *Cli) OutFd() (uintptr, bool) {
	f, ok := c.Out.(*os.File)
	if !ok {
		return 0, false
	}
	return f.Fd(), IsTerminal(f.Fd())
}
