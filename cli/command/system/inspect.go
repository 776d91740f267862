// Package system implements berth's daemon-wide commands: inspect, version
// and info.
package system

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/template"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
	"github.com/berth-project/berth/cli/format"
)

// NewInspectCommand returns `berth inspect`.
func NewInspectCommand(cli *command.Cli) *cobra.Command {
	var (
		tmpl string
		typ  string
		size bool
	)
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] NAME|ID [NAME|ID...]",
		Short: "Return low-level information on berth objects",
		Args:  command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch typ {
			case "", "container", "image", "volume":
			default:
				return fmt.Errorf("%q is not a valid value for --type", typ)
			}
			return Inspect(cmd.Context(), cli, args, tmpl, typ, size)
		},
	}
	flags := cmd.Flags()
	flags.StringVarP(&tmpl, "format", "f", "", "Format output using a custom template")
	flags.StringVar(&typ, "type", "", "Only inspect objects of the given type (container, image, volume)")
	flags.BoolVarP(&size, "size", "s", false, "Display total file sizes if the type is container")
	return cmd
}

// NewTypeInspectCommand returns the inspect command of one object type
// (`berth network inspect` for typ "network").
func NewTypeInspectCommand(cli *command.Cli, typ string) *cobra.Command {
	var tmpl string
	arg := strings.ToUpper(typ)
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] " + arg + " [" + arg + "...]",
		Short: "Display detailed information on one or more " + typ + "s",
		Args:  command.RequiresMinArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return Inspect(cmd.Context(), cli, args, tmpl, typ, false)
		},
	}
	cmd.Flags().StringVarP(&tmpl, "format", "f", "", "Format output using a custom template")
	return cmd
}

// object is one inspected object: its typed value and the daemon's JSON.
type object struct {
	typed any
	raw   []byte
}

// Inspect prints the named objects of type typ ("" tries container, image,
// then volume) as an indented JSON array, or through tmpl, one line each.
// Objects that cannot be found are reported after the output.
func Inspect(ctx context.Context, cli *command.Cli, names []string, tmpl, typ string, size bool) error {
	apiClient, err := cli.Client()
	if err != nil {
		return err
	}
	var t *template.Template
	if tmpl != "" {
		if t, err = format.Parse(tmpl); err != nil {
			return err
		}
	}
	var (
		raws [][]byte
		errs []error
	)
	for _, name := range names {
		obj, err := lookup(ctx, apiClient, name, typ, size)
		if err != nil {
			errs = append(errs, errors.New(command.ErrorText(err)))
			continue
		}
		if t == nil {
			raws = append(raws, bytes.TrimSpace(obj.raw))
			continue
		}
		line, err := execute(t, obj)
		if err != nil {
			return err
		}
		_, _ = fmt.Fprintln(cli.Out, line)
	}
	if t == nil {
		if err := writeJSONArray(cli, raws); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

func writeJSONArray(cli *command.Cli, raws [][]byte) error {
	if len(raws) == 0 {
		_, err := fmt.Fprintln(cli.Out, "[]")
		return err
	}
	data := append([]byte("["), bytes.Join(raws, []byte(","))...)
	data = append(data, ']')
	var buf bytes.Buffer
	if err := json.Indent(&buf, data, "", "    "); err != nil {
		return fmt.Errorf("indenting inspect output: %w", err)
	}
	buf.WriteByte('\n')
	_, err := cli.Out.Write(buf.Bytes())
	return err
}

// execute runs the template on the typed object and, when that fails (a
// template written against the JSON names, like .Id), on the raw JSON.
func execute(t *template.Template, obj object) (string, error) {
	var buf bytes.Buffer
	if err := t.Execute(&buf, obj.typed); err == nil {
		return buf.String(), nil
	}
	var generic any
	dec := json.NewDecoder(bytes.NewReader(obj.raw))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return "", err
	}
	buf.Reset()
	if err := t.Execute(&buf, generic); err != nil {
		return "", fmt.Errorf("template: %w", err)
	}
	return buf.String(), nil
}

func lookup(ctx context.Context, apiClient client.APIClient, name, typ string, size bool) (object, error) {
	getters := map[string]func() (object, error){
		"container": func() (object, error) {
			res, err := apiClient.ContainerInspect(ctx, name, client.ContainerInspectOptions{Size: size})
			return object{typed: res.Container, raw: res.Raw}, err
		},
		"image": func() (object, error) {
			var buf bytes.Buffer
			res, err := apiClient.ImageInspect(ctx, name, client.ImageInspectWithRawResponse(&buf))
			return object{typed: res.InspectResponse, raw: buf.Bytes()}, err
		},
		"volume": func() (object, error) {
			res, err := apiClient.VolumeInspect(ctx, name, client.VolumeInspectOptions{})
			return object{typed: res.Volume, raw: res.Raw}, err
		},
		"network": func() (object, error) {
			res, err := apiClient.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
			return object{typed: res.Network, raw: res.Raw}, err
		},
	}
	if typ != "" {
		return getters[typ]()
	}
	for _, kind := range []string{"container", "image", "volume"} {
		obj, err := getters[kind]()
		if err == nil {
			return obj, nil
		}
		if !errdefs.IsNotFound(err) {
			return object{}, err
		}
	}
	return object{}, fmt.Errorf("Error: No such object: %s", name)
}
