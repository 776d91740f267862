package image

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path"
	"strings"

	"github.com/spf13/cobra"

	"github.com/berth-project/berth/cli/command"
)

// NewRunlabelCommand returns `berth runlabel`: the atomic and Podman
// convention of an image that carries its own command line in a label
// (LABEL RUN="docker run -d --read-only IMAGE").
func NewRunlabelCommand(cli *command.Cli) *cobra.Command {
	var (
		name    string
		display bool
	)
	cmd := &cobra.Command{
		Use:   "runlabel [OPTIONS] LABEL IMAGE [ARG...]",
		Short: "Run the command line stored in an image's label",
		Long: "Run the command line stored in an image's label. A leading docker, podman or berth\n" +
			"means this engine; the words IMAGE and NAME ($IMAGE, ${IMAGE}, ...) are replaced by the\n" +
			"image and the container name (--name, default the image's name), ARGs are appended.",
		Args: command.RequiresMinArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			label, ref := args[0], args[1]
			apiClient, err := cli.Client()
			if err != nil {
				return err
			}
			img, err := apiClient.ImageInspect(cmd.Context(), ref)
			if err != nil {
				return err
			}
			var line string
			if img.Config != nil {
				line = img.Config.Labels[label]
			}
			if line == "" {
				return fmt.Errorf("image %s has no label %s", ref, label)
			}
			argv, err := runlabelArgs(line, ref, name, args[2:])
			if err != nil {
				return fmt.Errorf("label %s of %s: %w", label, ref, err)
			}
			if display {
				_, err := fmt.Fprintln(cli.Out, command.ProgramName+" "+strings.Join(argv, " "))
				return err
			}
			self, err := os.Executable()
			if err != nil {
				return err
			}
			host := cli.Host
			if host == "" {
				host = command.DefaultHost
			}
			c := exec.CommandContext(cmd.Context(), self, append([]string{"-H", host}, argv...)...)
			c.Stdin, c.Stdout, c.Stderr = cli.In, cli.Out, cli.Err
			if err := c.Run(); err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					return command.StatusError{StatusCode: ee.ExitCode()}
				}
				return err
			}
			return nil
		},
	}
	flags := cmd.Flags()
	flags.SetInterspersed(false)
	flags.StringVar(&name, "name", "", "Container name for NAME (default: the image's name)")
	flags.BoolVar(&display, "display", false, "Print the command line instead of running it")
	return cmd
}

// engines are the commands a label's line may start with; all mean this
// engine. Any other program is refused: an image must not run programs
// on the host.
var engines = map[string]bool{"docker": true, "podman": true, "berth": true}

// runlabelArgs turns a label's command line into berth's arguments:
// words split as a shell would (quotes, backslashes; no expansion), the
// engine word dropped, IMAGE and NAME substituted, extra appended.
func runlabelArgs(line, image, name string, extra []string) ([]string, error) {
	words, err := splitWords(line)
	if err != nil {
		return nil, err
	}
	if len(words) == 0 {
		return nil, errors.New("the command line is empty")
	}
	if !engines[path.Base(words[0])] {
		return nil, fmt.Errorf("the command line must start with docker, podman or berth, not %q", words[0])
	}
	if name == "" {
		name = imageName(image)
	}
	out := make([]string, 0, len(words)-1+len(extra))
	for _, w := range words[1:] {
		out = append(out, substitute(w, image, name))
	}
	return append(out, extra...), nil
}

// substitute replaces a word that is IMAGE or NAME (also $IMAGE and
// ${IMAGE}), or an option's value that is (--name=NAME).
func substitute(w, image, name string) string {
	prefix, value := "", w
	if i := strings.IndexByte(w, '='); i > 0 && strings.HasPrefix(w, "-") {
		prefix, value = w[:i+1], w[i+1:]
	}
	switch value {
	case "IMAGE", "$IMAGE", "${IMAGE}":
		return prefix + image
	case "NAME", "$NAME", "${NAME}":
		return prefix + name
	}
	return w
}

// imageName is a reference's last path component without tag or digest:
// the default container name.
func imageName(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	base := path.Base(ref)
	if i := strings.LastIndexByte(base, ':'); i > 0 {
		base = base[:i]
	}
	return base
}

// splitWords splits a command line as sh would, without expansions:
// single quotes, double quotes (with \" and \\) and backslash escapes.
func splitWords(s string) ([]string, error) {
	var (
		words []string
		cur   strings.Builder
		in    bool // inside a word
		quote rune
	)
	runes := []rune(s)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		switch {
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case quote == '"':
			switch {
			case r == '"':
				quote = 0
			case r == '\\' && i+1 < len(runes) && (runes[i+1] == '"' || runes[i+1] == '\\'):
				i++
				cur.WriteRune(runes[i])
			default:
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == '\\':
			if i+1 == len(runes) {
				return nil, errors.New("the command line ends with a backslash")
			}
			i++
			cur.WriteRune(runes[i])
			in = true
		case r == ' ' || r == '\t' || r == '\n':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote", quote)
	}
	if in {
		words = append(words, cur.String())
	}
	return words, nil
}
