using System.Text.RegularExpressions;
using Mesh.Node.Converge;
using Mesh.Node.Providers;
using Mesh.Node.Tests.Support;
using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Tests.Providers;

/// <summary>Service tests start real supervisors and services: one at a time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ServiceCollection
{
    public const string Name = "services";
}

/// <summary>
/// The service provider driving a real runit: a runsvdir of the test's own on a temporary scan
/// directory, service directories under a temporary root. Everything it starts dies with the test.
/// </summary>
[Collection(ServiceCollection.Name)]
public sealed partial class ServiceProviderTests : IDisposable
{
    private readonly TempDir _root = new();
    private readonly TempDir _scan = new();
    private readonly Runsvdir _runsvdir;
    private readonly ServiceProvider _provider;

    public ServiceProviderTests()
    {
        try
        {
            _runsvdir = new Runsvdir(_scan.Path);
        }
        catch
        {
            _root.Dispose();
            _scan.Dispose();
            throw;
        }
        // runsvdir scans every 5 s: a new service is picked up within about that.
        _provider = new ServiceProvider(new RunitServices(_scan.Path, pickupTimeout: TimeSpan.FromSeconds(20)));
    }

    public void Dispose()
    {
        _runsvdir.Dispose();
        _root.Dispose();
        _scan.Dispose();
    }

    private ApplyContext Context => new(_root.Path);
    private string ServiceDir => _root["etc/sv/svc"];

    private static ServiceResource Service(ServiceState ensure = ServiceState.Running, bool? enabled = null, string? run = "exec sleep 1000") =>
        new("svc", [], "svc", ensure, enabled) { Run = run };

    private ProviderResult Apply(ServiceResource spec) => _provider.CheckApply(spec, Context, apply: true, CancellationToken.None);
    private ProviderResult Check(ServiceResource spec) => _provider.CheckApply(spec, Context, apply: false, CancellationToken.None);

    [GeneratedRegex(@"^run: [^\n]*?\(pid (\d+)\)")]
    private static partial Regex PidInStatus();

    private string Status()
    {
        var status = HostTools.Run("sv", ["status", ServiceDir], TimeSpan.FromSeconds(10), CancellationToken.None);
        return status.Output.Trim() + status.Error.Trim();
    }

    /// <summary>The pid sv reports for the running service; fails when it is not running.</summary>
    private int RunningPid()
    {
        var status = Status();
        var match = PidInStatus().Match(status);
        Assert.True(match.Success, $"the service should be running; sv status says: {status}\n{_runsvdir.Log}");
        return int.Parse(match.Groups[1].Value);
    }

    private static string? CommandLineOf(int pid)
    {
        try
        {
            var text = File.ReadAllText($"/proc/{pid}/cmdline");
            return text.Length == 0 ? null : text.TrimEnd('\0').Replace('\0', ' ');
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static Task Runs(int pid, string commandLine) =>
        Eventually.True(() => CommandLineOf(pid) == commandLine, $"process {pid} to run '{commandLine}' (it runs '{CommandLineOf(pid)}')");

    private static Task Gone(int pid) => Eventually.True(() => CommandLineOf(pid) is null, $"process {pid} to end");

    [Fact]
    public async Task A_service_defined_by_run_is_created_enabled_and_running_then_left_alone()
    {
        var spec = Service(enabled: true);

        var first = Apply(spec);

        Assert.Equal(ResourceAction.Created, first.Action);
        Assert.Equal("svc: created /etc/sv/svc/run, enabled at boot, started", first.Message);
        var pid = RunningPid();
        await Runs(pid, "sleep 1000");
        Assert.Equal(ServiceDir, new FileInfo(Path.Combine(_scan.Path, "svc")).LinkTarget);
        Assert.False(File.Exists(Path.Combine(ServiceDir, "down")), "an enabled service has no down file");
        Assert.DoesNotContain("normally down", Status());

        var second = Apply(spec);

        Assert.Equal(ResourceAction.Unchanged, second.Action);
        Assert.Equal(pid, RunningPid());
    }

    [Fact]
    public async Task Ensure_stopped_stops_a_running_service_then_has_nothing_to_do()
    {
        Apply(Service());
        var pid = RunningPid();

        var stop = Apply(Service(ServiceState.Stopped));

        Assert.Equal(ResourceAction.Changed, stop.Action);
        Assert.Equal("svc: stopped", stop.Message);
        Assert.StartsWith("down:", Status());
        await Gone(pid);
        Assert.Equal(ResourceAction.Unchanged, Apply(Service(ServiceState.Stopped)).Action);
    }

    [Fact]
    public async Task A_refresh_restarts_a_running_service()
    {
        var spec = Service();
        Apply(spec);
        var before = RunningPid();

        var refresh = _provider.Refresh(spec, Context, apply: true, CancellationToken.None);

        Assert.Equal(ResourceAction.Changed, refresh.Action);
        Assert.Equal("svc: restarted (notified)", refresh.Message);
        var after = RunningPid();
        Assert.NotEqual(before, after);
        await Runs(after, "sleep 1000");
        await Gone(before);
    }

    [Fact]
    public async Task A_refresh_starts_a_service_that_should_run_and_leaves_a_stopped_one_alone()
    {
        Apply(Service());
        HostTools.Run("sv", ["-w", "10", "-v", "down", ServiceDir], TimeSpan.FromSeconds(20), CancellationToken.None).OrFail();

        Assert.Equal(ResourceAction.Unchanged, _provider.Refresh(Service(ServiceState.Stopped), Context, apply: true, CancellationToken.None).Action);
        Assert.StartsWith("down:", Status());

        var refresh = _provider.Refresh(Service(), Context, apply: true, CancellationToken.None);

        Assert.Equal("svc: started (notified)", refresh.Message);
        await Runs(RunningPid(), "sleep 1000");
    }

    [Fact]
    public void A_dry_run_says_what_would_change_and_changes_nothing()
    {
        var plan = Check(Service(enabled: true));

        Assert.Equal(ResourceAction.Created, plan.Action);
        Assert.Equal("svc: created /etc/sv/svc/run, enabled at boot, started", plan.Message);
        Assert.Contains("+exec sleep 1000", plan.Detail);
        Assert.False(Directory.Exists(ServiceDir), "a dry run creates no service directory");
        Assert.Empty(Directory.EnumerateFileSystemEntries(_scan.Path));

        Apply(Service());
        var pid = RunningPid();

        Assert.Equal("svc: stopped", Check(Service(ServiceState.Stopped)).Message);
        var rewrite = Check(Service(run: "exec sleep 2000"));
        Assert.Equal("svc: changed /etc/sv/svc/run, restarted for the new definition", rewrite.Message);
        Assert.Contains("-exec sleep 1000", rewrite.Detail);
        Assert.Contains("+exec sleep 2000", rewrite.Detail);
        Assert.Equal("svc: restarted (notified)", _provider.Refresh(Service(), Context, apply: false, CancellationToken.None).Message);

        Assert.Equal(pid, RunningPid());
        Assert.Contains("exec sleep 1000", File.ReadAllText(Path.Combine(ServiceDir, "run")));
    }

    [Fact]
    public void A_service_started_but_not_enabled_stays_down_at_boot_and_enabling_it_does_not_restart_it()
    {
        // Never linked, so not enabled: starting it keeps it that way.
        Assert.Equal("svc: created /etc/sv/svc/run, started", Apply(Service(enabled: false)).Message);
        var pid = RunningPid();
        Assert.True(File.Exists(Path.Combine(ServiceDir, "down")), "runsv reads the down file at boot");
        Assert.Contains("normally down", Status());

        var enable = Apply(Service(enabled: true));

        Assert.Equal("svc: enabled at boot", enable.Message);
        Assert.False(File.Exists(Path.Combine(ServiceDir, "down")));
        Assert.Equal(pid, RunningPid());
    }

    [Fact]
    public void An_enabled_service_that_should_be_stopped_is_linked_but_not_started()
    {
        var result = Apply(Service(ServiceState.Stopped, enabled: true));

        Assert.Equal("svc: created /etc/sv/svc/run, enabled at boot", result.Message);
        Assert.StartsWith("down:", Status());
        Assert.Contains("normally up", Status());
        Assert.Equal(ResourceAction.Unchanged, Apply(Service(ServiceState.Stopped, enabled: true)).Action);
    }

    [Fact]
    public async Task A_changed_run_script_is_rewritten_and_the_service_restarted()
    {
        Apply(Service());
        var before = RunningPid();

        var result = Apply(Service(run: "exec sleep 2000"));

        Assert.Equal(ResourceAction.Changed, result.Action);
        Assert.Equal("svc: changed /etc/sv/svc/run, restarted for the new definition", result.Message);
        await Runs(RunningPid(), "sleep 2000");
        await Gone(before);
    }

    [Fact]
    public async Task Without_run_the_service_directory_must_exist()
    {
        var e = Assert.Throws<ResourceException>(() => Apply(Service(run: null)));
        Assert.Contains("/etc/sv/svc/run does not exist", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_scan.Path));

        Directory.CreateDirectory(ServiceDir);
        File.WriteAllText(Path.Combine(ServiceDir, "run"), "#!/bin/sh\nexec sleep 1000\n");
        File.SetUnixFileMode(Path.Combine(ServiceDir, "run"), (UnixFileMode)Convert.ToInt32("755", 8));

        Assert.Equal("svc: started", Apply(Service(run: null)).Message);
        await Runs(RunningPid(), "sleep 1000");
    }

    [Fact]
    public async Task A_file_that_notifies_the_service_restarts_it_when_it_changes()
    {
        Directory.CreateDirectory(_root["etc"]);
        var engine = new ApplyEngine([new FileProvider(), _provider]);
        Manifest Manifest(string port) => ManifestParser.Parse($$"""
            manifest: app
            resources:
              - { id: conf, type: file, path: /etc/app.conf, content: "port = {{port}}", notify: [svc] }
              - { id: svc, type: service, name: svc, run: exec sleep 1000 }
            """, "app.yaml");

        var first = engine.Run(Manifest("80"), Context, apply: true);
        Assert.All(first, r => Assert.NotEqual(ResourceAction.Failed, r.Action));
        var before = RunningPid();

        var unchanged = engine.Run(Manifest("80"), Context, apply: true);
        Assert.All(unchanged, r => Assert.Equal(ResourceAction.Unchanged, r.Action));
        Assert.Equal(before, RunningPid());

        var changed = engine.Run(Manifest("81"), Context, apply: true);
        Assert.Equal(ResourceAction.Changed, changed.Single(r => r.Id == "svc").Action);
        Assert.NotEqual(before, RunningPid());
        await Gone(before);
    }
}

/// <summary>Picking the service manager of a host, and systemd driven through a stand-in systemctl.</summary>
[Collection(ServiceCollection.Name)]
public sealed class ServiceManagerChoiceTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static bool PidOneIsSystemd => File.ReadAllText("/proc/1/comm").Trim() == "systemd";

    [Fact]
    public void Without_systemd_as_pid_1_the_default_provider_uses_runit_when_installed_or_says_it_is_unsupported()
    {
        var provider = new ServiceProvider();

        if (PidOneIsSystemd)
        {
            Assert.IsType<SystemdServices>(provider.Manager);
            return;
        }
        if (HostTools.OnPath("sv") && HostTools.OnPath("runsvdir"))
        {
            Assert.IsType<RunitServices>(provider.Manager);
            return;
        }
        Assert.Null(provider.Manager);
        var result = provider.CheckApply(new ServiceResource("s", [], "s", ServiceState.Running, null), new ApplyContext(_dir.Path), apply: false, CancellationToken.None);
        Assert.Equal((ResourceAction.Failed, ServiceProvider.Unsupported), (result.Action, result.Message));
    }

    [Fact]
    public void A_node_without_a_service_manager_fails_every_service_and_says_why()
    {
        var provider = new ServiceProvider(null);
        var spec = new ServiceResource("s", [], "nginx", ServiceState.Running, true);

        foreach (var result in new[]
        {
            provider.CheckApply(spec, new ApplyContext(_dir.Path), apply: true, CancellationToken.None),
            provider.CheckApply(spec, new ApplyContext(_dir.Path), apply: false, CancellationToken.None),
            provider.Refresh(spec, new ApplyContext(_dir.Path), apply: true, CancellationToken.None),
        })
        {
            Assert.Equal(ResourceAction.Failed, result.Action);
            Assert.Equal("service: no supported service manager on this node (systemd or runit)", result.Message);
        }
    }

    [Fact]
    public void The_engine_picks_up_the_service_provider_by_itself()
    {
        var manifest = ManifestParser.Parse("manifest: m\nresources:\n  - {id: s, type: service, name: nginx, run: exec nginx}\n", "m.yaml");

        var result = Assert.Single(ApplyEngine.Default().Run(manifest, new ApplyContext(_dir.Path), apply: false));

        Assert.DoesNotContain("no provider for resource type", result.Message ?? "");
    }

    /// <summary>A systemctl that logs its arguments and keeps unit state in files.</summary>
    private SystemdServices FakeSystemd(bool active = false, bool enabled = false, bool needsReload = false)
    {
        var state = _dir["state"];
        Directory.CreateDirectory(state);
        if (active) File.WriteAllText(Path.Combine(state, "active"), "");
        if (enabled) File.WriteAllText(Path.Combine(state, "enabled"), "");
        if (needsReload) File.WriteAllText(Path.Combine(state, "reload"), "");
        var script = _dir["systemctl"];
        File.WriteAllText(script, $$"""
            #!/bin/sh
            echo "$*" >> {{_dir["calls"]}}
            s={{state}}
            case "$1" in
              is-active) [ -f $s/active ] ;;
              is-enabled) [ -f $s/enabled ] ;;
              show) if [ -f $s/reload ]; then echo yes; else echo no; fi ;;
              daemon-reload) rm -f $s/reload ;;
              start|restart) touch $s/active ;;
              stop) rm -f $s/active ;;
              enable) touch $s/enabled ;;
              disable) rm -f $s/enabled ;;
              *) echo "unknown command $1" >&2; exit 1 ;;
            esac
            """);
        File.SetUnixFileMode(script, (UnixFileMode)Convert.ToInt32("755", 8));
        return new SystemdServices(script);
    }

    private string[] Calls()
    {
        var calls = File.Exists(_dir["calls"]) ? File.ReadAllLines(_dir["calls"]) : [];
        File.Delete(_dir["calls"]);
        return calls;
    }

    // systemd manages the host itself: these run with root "/", and the stand-in touches nothing outside the test's directory.
    private static readonly ApplyContext Host = new("/");

    [Fact]
    public void Systemd_enables_and_starts_a_unit_through_systemctl_then_only_asks()
    {
        var provider = new ServiceProvider(FakeSystemd(needsReload: true));
        var spec = new ServiceResource("web", [], "nginx", ServiceState.Running, true);

        var first = provider.CheckApply(spec, Host, apply: true, CancellationToken.None);

        Assert.Equal("nginx: enabled at boot, started", first.Message);
        Assert.Equal(
            ["is-enabled --quiet -- nginx", "enable -- nginx", "is-active --quiet -- nginx",
             "show --property=NeedDaemonReload --value -- nginx", "daemon-reload", "start -- nginx"],
            Calls());

        Assert.Equal(ResourceAction.Unchanged, provider.CheckApply(spec, Host, apply: true, CancellationToken.None).Action);
        Assert.Equal(["is-enabled --quiet -- nginx", "is-active --quiet -- nginx"], Calls());
    }

    [Fact]
    public void Systemd_stops_disables_and_restarts_through_systemctl_and_a_dry_run_only_asks()
    {
        var provider = new ServiceProvider(FakeSystemd(active: true, enabled: true));
        var stopped = new ServiceResource("web", [], "nginx", ServiceState.Stopped, false);

        Assert.Equal("nginx: disabled at boot, stopped", provider.CheckApply(stopped, Host, apply: false, CancellationToken.None).Message);
        Assert.Equal(["is-enabled --quiet -- nginx", "is-active --quiet -- nginx"], Calls());

        provider.CheckApply(stopped, Host, apply: true, CancellationToken.None);
        Assert.Equal(["is-enabled --quiet -- nginx", "disable -- nginx", "is-active --quiet -- nginx", "stop -- nginx"], Calls());

        var running = stopped with { Ensure = ServiceState.Running, Enabled = null };
        provider.CheckApply(running, Host, apply: true, CancellationToken.None);
        Calls();
        Assert.Equal("nginx: restarted (notified)", provider.Refresh(running, Host, apply: true, CancellationToken.None).Message);
        Assert.Equal(["is-active --quiet -- nginx", "show --property=NeedDaemonReload --value -- nginx", "restart -- nginx"], Calls());
    }

    [Fact]
    public void A_failing_systemctl_fails_the_resource_with_what_it_said()
    {
        var provider = new ServiceProvider(FakeSystemd());
        File.WriteAllText(_dir["systemctl"], "#!/bin/sh\ncase \"$1\" in start) echo 'Unit nginx.service not found.' >&2; exit 5 ;; *) exit 3 ;; esac\n");

        var e = Assert.Throws<ResourceException>(() =>
            provider.CheckApply(new ServiceResource("web", [], "nginx", ServiceState.Running, null), Host, apply: true, CancellationToken.None));

        Assert.Contains("start -- nginx failed (exit 5): Unit nginx.service not found.", e.Message);
    }

    [Fact]
    public void Systemd_refuses_run_and_a_node_root_that_is_not_the_host()
    {
        var systemd = FakeSystemd();
        var provider = new ServiceProvider(systemd);
        var spec = new ServiceResource("web", [], "nginx", ServiceState.Running, null);

        var run = Assert.Throws<ResourceException>(() => provider.CheckApply(spec with { Run = "exec nginx" }, Host, apply: false, CancellationToken.None));
        Assert.Contains("'run' defines a runit service directory", run.Message);

        var sandbox = new ApplyContext(_dir.Path);
        var e = Assert.Throws<ResourceException>(() => provider.CheckApply(spec, sandbox, apply: true, CancellationToken.None));
        Assert.Contains($"this node applies under {_dir.Path}, not /", e.Message);
        Assert.Throws<ResourceException>(() => provider.Refresh(spec, sandbox, apply: true, CancellationToken.None));
        Assert.Empty(Calls());
    }
}
