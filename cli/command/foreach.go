package command

import (
	"errors"
	"fmt"

	"github.com/moby/moby/client"
)

// ForEach runs op with the API client on every name in order, prints each name that succeeded
// on stdout and returns the failures joined (exit status 1), as Docker's
// commands on several objects (`rm`, `stop`, `network rm`) do. ignore, when
// set, drops matching errors after printing them on stderr.
func ForEach(cli *Cli, names []string, op func(apiClient client.APIClient, name string) error, ignore func(error) bool) error {
	apiClient, err := cli.Client()
	if err != nil {
		return err
	}
	var errs []error
	for _, name := range names {
		if err := op(apiClient, name); err != nil {
			if ignore != nil && ignore(err) {
				_, _ = fmt.Fprintln(cli.Err, ErrorText(err))
				continue
			}
			errs = append(errs, errors.New(ErrorText(err)))
			continue
		}
		_, _ = fmt.Fprintln(cli.Out, name)
	}
	return errors.Join(errs...)
}
