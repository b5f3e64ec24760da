using System.Diagnostics;
using Mesh.Node.Providers;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Providers;

/// <summary>Real processes, run in a temporary root.</summary>
public sealed class ExecProviderTests : ProviderTestBase
{
    private readonly ExecProvider _provider = new();

    private ProviderResult Apply(ExecResource r) => _provider.CheckApply(r, Context, apply: true, CancellationToken.None);
    private ProviderResult Check(ExecResource r) => _provider.CheckApply(r, Context, apply: false, CancellationToken.None);

    private static ExecResource Shell(string script) => new("run", [], ExecCommand.Shell(script));

    private static ExecResource Argv(params string[] argv) => new("run", [], ExecCommand.Arguments(argv));

    [Fact]
    public void Runs_the_command_and_reports_its_exit_code_and_output()
    {
        var result = Apply(Argv("/bin/sh", "-c", "echo to stdout; echo to stderr >&2"));

        Assert.Equal(ResourceAction.Changed, result.Action);
        Assert.Matches(@"^ran /bin/sh -c 'echo to stdout; echo to stderr >&2': exit 0 in \d+ ms$", result.Message);
        Assert.Contains("to stdout", result.Detail);
        Assert.Contains("to stderr", result.Detail);
    }

    [Fact]
    public void A_shell_string_runs_with_bin_sh_in_the_node_root()
    {
        var result = Apply(Shell("echo $((2 + 3)) > sum; pwd > here"));

        Assert.Equal(ResourceAction.Changed, result.Action);
        Assert.Equal("5\n", File.ReadAllText(Root["sum"]));
        Assert.Equal(Context.Resolve("/") + "\n", File.ReadAllText(Root["here"]));
    }

    [Fact]
    public void Arguments_reach_the_program_one_by_one_without_a_shell()
    {
        var result = Apply(Argv("/bin/sh", "-c", "printf '%s|' \"$@\" > args", "sh", "two words", "$(touch pwned)", "*"));

        Assert.Equal(ResourceAction.Changed, result.Action);
        Assert.Equal("two words|$(touch pwned)|*|", File.ReadAllText(Root["args"]));
        Assert.False(File.Exists(Root["pwned"]));
    }

    [Fact]
    public void Cwd_is_a_path_under_the_root_and_env_is_added_to_the_environment()
    {
        Directory.CreateDirectory(Root["srv/app"]);

        Apply(Shell("echo \"$GREETING $HOME\" > out") with
        {
            Cwd = "/srv/app",
            Env = new Dictionary<string, string> { ["GREETING"] = "hello", ["HOME"] = "/nowhere" },
        });

        Assert.Equal("hello /nowhere\n", File.ReadAllText(Root["srv/app/out"]));
    }

    [Fact]
    public void A_missing_working_directory_fails_when_applying_and_is_reported_by_a_dry_run()
    {
        var spec = Shell("touch marker") with { Cwd = "/srv/app" };

        var planned = Check(spec);
        var e = Assert.Throws<ResourceException>(() => Apply(spec));

        Assert.Contains("does not exist yet", planned.Message);
        Assert.Contains("working directory /srv/app does not exist", e.Message);
        Assert.False(File.Exists(Root["marker"]));
    }

    [Fact]
    public void A_failing_command_fails_with_its_exit_code_and_output()
    {
        var result = Apply(Shell("echo cannot connect >&2; exit 3"));

        Assert.Equal(ResourceAction.Failed, result.Action);
        Assert.Matches(@"^echo cannot connect >&2; exit 3 failed: exit 3 in \d+ ms$", result.Message);
        Assert.Equal("cannot connect", result.Detail);
    }

    [Fact]
    public void A_program_that_does_not_exist_is_a_clear_failure()
    {
        var e = Assert.Throws<ResourceException>(() => Apply(Argv("/no/such/program", "x")));

        Assert.StartsWith("cannot start /no/such/program x: ", e.Message);
    }

    [Fact]
    public void The_output_detail_keeps_the_last_forty_lines()
    {
        var result = Apply(Shell("seq 1 100"));

        var lines = result.Detail!.Split('\n');
        Assert.Equal("[60 earlier lines not shown]", lines[0]);
        Assert.Equal(Enumerable.Range(61, 40).Select(i => i.ToString()), lines[1..]);
    }

    [Fact]
    public void The_output_detail_stays_within_what_a_report_carries()
    {
        var result = Apply(Shell("i=0; while [ $i -lt 30 ]; do head -c 1000 /dev/zero | tr '\\0' x; echo; i=$((i+1)); done; head -c 9000 /dev/zero | tr '\\0' y"));

        Assert.Equal(ResourceAction.Changed, result.Action);
        Assert.InRange(result.Detail!.Length, 3000, ApplyReport.MaxDetail);
        Assert.EndsWith("yyyy", result.Detail);
        Assert.StartsWith("[30 earlier lines not shown]\n…y", result.Detail);
    }

    [Fact]
    public void Creates_skips_the_command_while_its_path_exists()
    {
        var spec = Shell("touch marker") with { Creates = "/done" };
        File.WriteAllText(Root["done"], "");

        var result = Apply(spec);

        Assert.Equal(ResourceAction.Unchanged, result.Action);
        Assert.Equal("skipped: /done exists", result.Message);
        Assert.False(File.Exists(Root["marker"]));
    }

    [Fact]
    public void A_command_that_creates_its_guard_runs_once_then_a_second_apply_changes_nothing()
    {
        var spec = Shell("echo ran >> runs; touch done") with { Creates = "/done" };

        var first = Apply(spec);
        var second = Apply(spec);

        Assert.Equal(ResourceAction.Changed, first.Action);
        Assert.Equal(ResourceAction.Unchanged, second.Action);
        Assert.Equal("ran\n", File.ReadAllText(Root["runs"]));
    }

    [Theory]
    [InlineData("true", false)]
    [InlineData("false", true)]
    public void Unless_skips_the_command_when_it_exits_zero(string guard, bool runs)
    {
        var result = Apply(Shell("touch marker") with { Unless = ExecCommand.Shell(guard) });

        Assert.Equal(runs ? ResourceAction.Changed : ResourceAction.Unchanged, result.Action);
        Assert.Equal(runs, File.Exists(Root["marker"]));
        if (!runs) Assert.Equal("skipped: unless true exited 0", result.Message);
    }

    [Theory]
    [InlineData("exit 0", true)]
    [InlineData("exit 4", false)]
    public void Only_if_skips_the_command_when_it_exits_non_zero(string guard, bool runs)
    {
        var result = Apply(Shell("touch marker") with { OnlyIf = ExecCommand.Shell(guard) });

        Assert.Equal(runs ? ResourceAction.Changed : ResourceAction.Unchanged, result.Action);
        Assert.Equal(runs, File.Exists(Root["marker"]));
        if (!runs) Assert.Equal("skipped: only_if exit 4 exited 4", result.Message);
    }

    [Fact]
    public void Guards_run_in_the_working_directory_with_the_environment()
    {
        Directory.CreateDirectory(Root["app"]);
        File.WriteAllText(Root["app/ready"], "");
        var spec = Shell("touch marker") with
        {
            Cwd = "/app",
            Env = new Dictionary<string, string> { ["FLAG"] = "ready" },
            OnlyIf = ExecCommand.Arguments("/bin/sh", "-c", "test -f \"$FLAG\""),
        };

        Assert.Equal(ResourceAction.Changed, Apply(spec).Action);
        Assert.True(File.Exists(Root["app/marker"]));
    }

    [Fact]
    public void A_refresh_only_command_runs_only_when_refreshed()
    {
        var spec = Shell("echo ran >> runs") with { RefreshOnly = true };

        var checkedOnly = Apply(spec);
        Assert.Equal(ResourceAction.Unchanged, checkedOnly.Action);
        Assert.False(File.Exists(Root["runs"]));

        var refreshed = _provider.Refresh(spec, Context, apply: true, CancellationToken.None);
        Assert.Equal(ResourceAction.Changed, refreshed.Action);
        Assert.Equal("ran\n", File.ReadAllText(Root["runs"]));
    }

    [Fact]
    public void A_refresh_only_command_still_obeys_its_guards()
    {
        var spec = Shell("touch marker") with { RefreshOnly = true, Unless = ExecCommand.Shell("true") };

        var result = _provider.Refresh(spec, Context, apply: true, CancellationToken.None);

        Assert.Equal(ResourceAction.Unchanged, result.Action);
        Assert.False(File.Exists(Root["marker"]));
    }

    [Fact]
    public void A_command_that_is_not_refresh_only_does_not_run_twice_when_notified()
    {
        var spec = Shell("echo ran >> runs");

        Apply(spec);
        var refreshed = _provider.Refresh(spec, Context, apply: true, CancellationToken.None);

        Assert.Equal(ResourceAction.Unchanged, refreshed.Action);
        Assert.Equal("ran\n", File.ReadAllText(Root["runs"]));
    }

    [Fact]
    public void A_command_that_runs_too_long_is_killed_with_what_it_started_and_fails()
    {
        var spec = Shell("echo started; sleep 30 & echo $! > child; wait; touch finished") with { Timeout = TimeSpan.FromMilliseconds(500) };
        var clock = Stopwatch.StartNew();

        var result = Apply(spec);

        Assert.Equal(ResourceAction.Failed, result.Action);
        Assert.Equal("echo started; sleep 30 & echo $! > child; wait; touch finished timed out after 500ms and was killed", result.Message);
        Assert.Equal("started", result.Detail);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
        Assert.False(File.Exists(Root["finished"]));
        Assert.False(IsRunning(int.Parse(File.ReadAllText(Root["child"]))), "the background sleep outlived the timeout");
    }

    [Fact]
    public void A_cancelled_run_kills_the_command_with_what_it_started()
    {
        var spec = Shell("sleep 30 & echo $! > child; wait; touch finished");
        using var run = new CancellationTokenSource();
        // Cancelled once the command has started its child, so the test knows whom to look for.
        _ = Task.Run(async () =>
        {
            for (var waited = 0; waited < 500 && !(File.Exists(Root["child"]) && File.ReadAllText(Root["child"]).EndsWith('\n')); waited++)
                await Task.Delay(20);
            run.Cancel();
        });
        var clock = Stopwatch.StartNew();

        Assert.ThrowsAny<OperationCanceledException>(() => _provider.CheckApply(spec, Context, apply: true, run.Token));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
        Assert.False(File.Exists(Root["finished"]));
        Assert.False(IsRunning(int.Parse(File.ReadAllText(Root["child"]))), "the background sleep outlived the cancellation");
    }

    [Fact]
    public void A_guard_that_runs_too_long_fails_the_resource()
    {
        var result = Apply(Shell("touch marker") with { Unless = ExecCommand.Shell("sleep 30"), Timeout = TimeSpan.FromMilliseconds(300) });

        Assert.Equal(ResourceAction.Failed, result.Action);
        Assert.Equal("unless sleep 30 timed out after 300ms and was killed", result.Message);
        Assert.False(File.Exists(Root["marker"]));
    }

    [Fact]
    public void A_daemon_left_holding_the_output_does_not_hang_the_apply()
    {
        var spec = Shell("echo before; sleep 30 & echo $! > child; echo after");
        var clock = Stopwatch.StartNew();

        try
        {
            var result = Apply(spec);

            Assert.Equal(ResourceAction.Changed, result.Action);
            Assert.StartsWith("before\nafter", result.Detail);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(15), $"took {clock.Elapsed}");
        }
        finally
        {
            Process.GetProcessById(int.Parse(File.ReadAllText(Root["child"]))).Kill();
        }
    }

    [Fact]
    public void A_dry_run_runs_nothing_but_says_it_would()
    {
        var plain = Check(Shell("touch marker"));
        var refreshed = _provider.Refresh(Shell("touch marker") with { RefreshOnly = true }, Context, apply: false, CancellationToken.None);

        Assert.Equal(ResourceAction.Changed, plain.Action);
        Assert.Equal("would run touch marker", plain.Message);
        Assert.Equal("would run touch marker", refreshed.Message);
        Assert.False(File.Exists(Root["marker"]));
    }

    [Fact]
    public void A_dry_run_evaluates_the_guards_so_a_converged_host_plans_no_change()
    {
        File.WriteAllText(Root["done"], "");

        var byCreates = Check(Shell("touch marker") with { Creates = "/done" });
        var byUnless = Check(Shell("touch marker") with { Unless = ExecCommand.Shell("test -f done") });
        var byOnlyIf = Check(Shell("touch marker") with { OnlyIf = ExecCommand.Shell("test ! -f done") });

        Assert.Equal([ResourceAction.Unchanged, ResourceAction.Unchanged, ResourceAction.Unchanged],
            new[] { byCreates, byUnless, byOnlyIf }.Select(r => r.Action));
        Assert.False(File.Exists(Root["marker"]));
    }

    private static bool IsRunning(int pid)
    {
        // Killed but not yet reaped by its new parent counts as gone: state Z in /proc/<pid>/stat.
        var stat = $"/proc/{pid}/stat";
        for (var i = 0; i < 50; i++)
        {
            if (!File.Exists(stat)) return false;
            string text;
            try
            {
                text = File.ReadAllText(stat);
            }
            catch (IOException)
            {
                return false;
            }
            if (text[(text.LastIndexOf(')') + 2)..].StartsWith('Z')) return false;
            Thread.Sleep(100);
        }
        return true;
    }
}
