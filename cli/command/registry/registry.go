// Package registry holds `berth login`, `berth logout` and the credentials
// the image commands send: they live in Docker's CLI config
// (~/.docker/config.json, or $DOCKER_CONFIG/config.json, and the
// credential helpers it names), so `docker login` and `berth login` share
// them.
package registry

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/distribution/reference"
	"github.com/docker/cli/cli/config"
	"github.com/docker/cli/cli/config/types"
	registrytypes "github.com/moby/moby/api/types/registry"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
)

// hubServer is the key Docker's CLI stores Docker Hub credentials under.
const hubServer = "https://index.docker.io/v1/"

// serverKey returns the config key of a registry host as Docker's CLI
// writes it.
func serverKey(server string) string {
	s := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(server, "https://"), "http://"), "/")
	switch s {
	case "", "docker.io", "index.docker.io", "index.docker.io/v1", "registry-1.docker.io":
		return hubServer
	}
	return s
}

// EncodedAuth returns the X-Registry-Auth value for pulling or pushing
// image ref with the stored credentials ("" when there are none).
func EncodedAuth(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", err
	}
	cf, err := config.Load("")
	if err != nil {
		return "", err
	}
	ac, err := cf.GetAuthConfig(serverKey(reference.Domain(named)))
	if err != nil {
		return "", err
	}
	if ac.Username == "" && ac.Password == "" && ac.IdentityToken == "" && ac.RegistryToken == "" {
		return "", nil
	}
	return encode(registrytypes.AuthConfig{
		Username: ac.Username, Password: ac.Password, ServerAddress: ac.ServerAddress,
		IdentityToken: ac.IdentityToken, RegistryToken: ac.RegistryToken,
	})
}

func encode(ac registrytypes.AuthConfig) (string, error) {
	b, err := json.Marshal(ac)
	if err != nil {
		return "", err
	}
	return base64.URLEncoding.EncodeToString(b), nil
}

// NewLoginCommand returns `berth login`.
func NewLoginCommand(cli *command.Cli) *cobra.Command {
	var (
		user, password string
		passwordStdin  bool
	)
	cmd := &cobra.Command{
		Use:   "login [OPTIONS] [SERVER]",
		Short: "Authenticate to a registry",
		Args:  command.RequiresRangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := hubServer
			if len(args) == 1 {
				server = serverKey(args[0])
			}
			if passwordStdin {
				if password != "" {
					return errors.New("--password and --password-stdin are mutually exclusive")
				}
				if user == "" {
					return errors.New("must provide --username with --password-stdin")
				}
				b, err := io.ReadAll(cli.In)
				if err != nil {
					return err
				}
				password = strings.TrimRight(string(b), "\r\n")
			}
			if user == "" || password == "" {
				if _, isTerm := cli.InFd(); !isTerm {
					return errors.New("username and password are required: use -u USER --password-stdin")
				}
				in := bufio.NewReader(cli.In)
				if user == "" {
					_, _ = fmt.Fprint(cli.Out, "Username: ")
					line, _ := in.ReadString('\n')
					user = strings.TrimSpace(line)
				}
				if password == "" {
					_, _ = fmt.Fprint(cli.Out, "Password: ")
					line, _ := in.ReadString('\n')
					password = strings.TrimRight(line, "\r\n")
				}
			}
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			res, err := apiClient.RegistryLogin(cmd.Context(), client.RegistryLoginOptions{Username: user, Password: password, ServerAddress: server})
			if err != nil {
				return err
			}
			cf, err := config.Load("")
			if err != nil {
				return err
			}
			ac := types.AuthConfig{Username: user, Password: password, ServerAddress: server}
			if tok := res.Auth.IdentityToken; tok != "" {
				ac.Password, ac.IdentityToken = "", tok
			}
			if err := cf.GetCredentialsStore(server).Store(ac); err != nil {
				return fmt.Errorf("saving credentials: %w", err)
			}
			_, _ = fmt.Fprintln(cli.Out, "Login Succeeded")
			return nil
		},
	}
	flags := cmd.Flags()
	flags.StringVarP(&user, "username", "u", "", "Username")
	flags.StringVarP(&password, "password", "p", "", "Password")
	flags.BoolVar(&passwordStdin, "password-stdin", false, "Take the password from stdin")
	return cmd
}

// NewLogoutCommand returns `berth logout`.
func NewLogoutCommand(cli *command.Cli) *cobra.Command {
	return &cobra.Command{
		Use:   "logout [SERVER]",
		Short: "Log out from a registry",
		Args:  command.RequiresRangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			server := hubServer
			if len(args) == 1 {
				server = serverKey(args[0])
			}
			cf, err := config.Load("")
			if err != nil {
				return err
			}
			if _, ok := cf.AuthConfigs[server]; !ok && cf.CredentialsStore == "" && cf.CredentialHelpers[server] == "" {
				_, _ = fmt.Fprintf(cli.Out, "Not logged in to %s\n", server)
				return nil
			}
			_, _ = fmt.Fprintf(cli.Out, "Removing login credentials for %s\n", server)
			if err := cf.GetCredentialsStore(server).Erase(server); err != nil {
				return fmt.Errorf("removing credentials: %w", err)
			}
			return nil
		},
	}
}
