using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Providers;

/// <summary>
/// systemd, for hosts whose PID 1 is systemd, through <c>systemctl</c>. Running is
/// <c>is-active</c>, enabled is <c>is-enabled</c> (its exit code, so static and generated units
/// count as enabled, as systemd itself says). A unit file changed on disk is reloaded before a
/// start or restart, so a file resource that rewrites a unit and notifies its service takes effect.
/// <para>
/// systemd drives the host's own services whatever the node's root is, so a node that applies
/// under another root (a sandbox) refuses service resources instead of touching the host.
/// </para>
/// </summary>
public sealed class SystemdServices(string systemctl = "systemctl") : IServiceManager
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(3);

    public string Name => "systemd";

    public ProviderResult Define(ServiceResource service, ApplyContext context, bool apply, CancellationToken cancel)
    {
        RequireHostRoot(context);
        if (service.Run is not null)
            throw new ResourceException(
                $"'run' defines a runit service directory; with systemd, write the unit file (/etc/systemd/system/{service.Name}.service) with a file resource that notifies this service");
        return ProviderResult.Unchanged;
    }

    public bool IsRunning(string name, ApplyContext context, CancellationToken cancel) => Ask(context, "is-active", name, cancel);

    public bool IsEnabled(string name, ApplyContext context, CancellationToken cancel) => Ask(context, "is-enabled", name, cancel);

    public void Start(string name, ApplyContext context, CancellationToken cancel) => Act(context, "start", name, cancel, reload: true);

    public void Stop(string name, ApplyContext context, CancellationToken cancel) => Act(context, "stop", name, cancel);

    public void Restart(string name, ApplyContext context, CancellationToken cancel) => Act(context, "restart", name, cancel, reload: true);

    public void Enable(string name, ApplyContext context, CancellationToken cancel) => Act(context, "enable", name, cancel);

    public void Disable(string name, ApplyContext context, CancellationToken cancel) => Act(context, "disable", name, cancel);

    private bool Ask(ApplyContext context, string question, string name, CancellationToken cancel)
    {
        RequireHostRoot(context);
        return Systemctl(cancel, question, "--quiet", "--", name).Succeeded;
    }

    private void Act(ApplyContext context, string verb, string name, CancellationToken cancel, bool reload = false)
    {
        RequireHostRoot(context);
        if (reload && Systemctl(cancel, "show", "--property=NeedDaemonReload", "--value", "--", name).Output.Trim() == "yes")
            Systemctl(cancel, "daemon-reload").OrFail();
        Systemctl(cancel, verb, "--", name).OrFail();
    }

    private ToolOutput Systemctl(CancellationToken cancel, params string[] args) => HostTools.Run(systemctl, args, Timeout, cancel);

    private static void RequireHostRoot(ApplyContext context)
    {
        if (Path.GetFullPath(context.Root).TrimEnd('/').Length > 0)
            throw new ResourceException(
                $"systemd manages this host's own services, and this node applies under {context.Root}, not /: services are left alone");
    }
}
