// Command pulumi-language-python is ga-listener's stand-in for Pulumi's Python language host.
//
// The Go module proxy reachable here serves the CLI (github.com/pulumi/pulumi/pkg/v3) but refuses every version of
// the language host's own module (github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3), so this
// small host is built beside the CLI instead. It does only what `pulumi preview/up/refresh/destroy` need from a
// language host: it answers GetPluginInfo and GetRequiredPackages, and Run starts the program the way Pulumi's own
// host does: through the SDK's `pulumi-language-python-exec` script (which must lie beside this binary), with the
// interpreter of the project's virtualenv resolved by the SDK's own python/toolchain package, and the stack's
// config in PULUMI_CONFIG / PULUMI_CONFIG_SECRET_KEYS. Everything else (the engine, the state, the dynamic
// provider's launch through `pulumi-resource-pulumi-python`) is the real CLI's.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// userActionableExit is the exit code with which the exec script says it has already shown the user the error.
const userActionableExit = 32

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
	execScript    string
}

func main() {
	flags := flag.NewFlagSet("pulumi-language-python", flag.ContinueOnError)
	// The engine may pass logging and tracing flags; they are accepted and ignored.
	flags.Bool("logtostderr", false, "ignored")
	flags.Bool("logflow", false, "ignored")
	flags.Int("v", 0, "ignored")
	flags.String("tracing", "", "ignored")
	flags.String("root", "", "ignored")
	if err := flags.Parse(os.Args[1:]); err != nil {
		os.Exit(2)
	}
	if flags.NArg() < 1 {
		fmt.Fprintln(os.Stderr, "usage: pulumi-language-python [flags] ENGINE-ADDRESS")
		os.Exit(2)
	}
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	host := &languageHost{
		engineAddress: flags.Arg(flags.NArg() - 1),
		execScript:    filepath.Join(filepath.Dir(self), "pulumi-language-python-exec"),
	}
	// Like Pulumi's own plugins: stop on an interrupt, and when the engine that started us is gone (a killed CLI
	// would otherwise leave this host behind).
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	done := make(chan bool)
	go func() {
		<-ctx.Done()
		cancel()
		close(done)
	}()
	if err := rpcutil.Healthcheck(ctx, host.engineAddress, 5*time.Minute, cancel); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: done,
		Init: func(server *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(server, host)
			return nil
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// GetRequiredPackages answers that the program needs no plugin: a dynamic provider's plugin
// (pulumi-resource-pulumi-python) is found by the engine itself, beside the CLI or on PATH.
func (h *languageHost) GetRequiredPackages(
	context.Context, *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{}, nil
}

func (h *languageHost) GetRequiredPlugins(
	context.Context, *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	return &pulumirpc.GetRequiredPluginsResponse{}, nil
}

// Run runs the program to completion and reports how it ended; the engine shows its output.
func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	info := req.GetInfo()
	options := info.GetOptions().AsMap()
	virtualenv, _ := options["virtualenv"].(string)
	pythonOptions := toolchain.PythonOptions{
		Root:       info.GetRootDirectory(),
		ProgramDir: info.GetProgramDirectory(),
		Virtualenv: virtualenv,
	}
	setToolchain(&pythonOptions, options["toolchain"])
	tc, err := toolchain.ResolveToolchain(pythonOptions)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err // as Pulumi's host answers it: the CLI shows the missing virtualenv and how to make it
	}
	config, err := json.Marshal(req.GetConfig())
	if err != nil {
		return nil, err
	}
	secretKeys, err := json.Marshal(req.GetConfigSecretKeys())
	if err != nil {
		return nil, err
	}
	program := info.GetEntryPoint()
	if program == "" {
		program = req.GetProgram() //nolint:staticcheck // older engines fill only this field
	}
	args := []string{
		"-u", h.execScript,
		"--monitor", req.GetMonitorAddress(),
		"--engine", h.engineAddress,
		"--project", req.GetProject(),
		"--stack", req.GetStack(),
		"--pwd", req.GetPwd(),
		"--dry_run", strconv.FormatBool(req.GetDryRun()),
		"--parallel", strconv.Itoa(int(req.GetParallel())),
		"--organization", req.GetOrganization(),
		"--root_directory", info.GetRootDirectory(),
		program,
	}
	cmd, err := tc.Command(ctx, append(args, req.GetArgs()...)...)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "PULUMI_CONFIG="+string(config), "PULUMI_CONFIG_SECRET_KEYS="+string(secretKeys))
	cmd.Dir = req.GetPwd()
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err = cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exit) && exit.ExitCode() == userActionableExit:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exit):
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exit.ExitCode()),
		}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Problem executing program (could not run language executor): %v", err)}, nil
	}
}

// setToolchain applies the `toolchain` runtime option of Pulumi.yaml; unset, the SDK detects it (pip by default).
func setToolchain(options *toolchain.PythonOptions, value any) {
	switch value {
	case "pip":
		options.Toolchain = toolchain.Pip
	case "poetry":
		options.Toolchain = toolchain.Poetry
	case "uv":
		options.Toolchain = toolchain.Uv
	}
}
