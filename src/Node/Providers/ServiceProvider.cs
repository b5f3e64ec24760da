using Mesh.Protocol.Manifests;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Providers;

/// <summary>
/// Services: defined (runit's <c>run</c>), enabled or disabled at boot when the manifest says
/// so, then running or stopped; a running service whose definition changed is restarted, and
/// a notification restarts it (or starts it, when it should run and does not). The work is done
/// by the host's service manager, picked once per node; a node without one reports every
/// service as failed with <see cref="Unsupported"/>, never as applied.
/// </summary>
public sealed class ServiceProvider : IResourceProvider, IRefreshable
{
    public const string Unsupported = "service: no supported service manager on this node (systemd or runit)";

    /// <summary>The service manager of this host: systemd, runit, or none.</summary>
    public ServiceProvider() : this(ServiceManagers.ForThisHost()) { }

    /// <param name="manager">Null when the node has no service manager Mesh can drive.</param>
    public ServiceProvider(IServiceManager? manager) => Manager = manager;

    public IServiceManager? Manager { get; }

    public string Kind => ServiceResource.KindName;

    public ProviderResult CheckApply(ResourceSpec resource, ApplyContext context, bool apply, CancellationToken cancel)
    {
        var spec = (ServiceResource)resource;
        if (Manager is not { } manager) return new ProviderResult(ResourceAction.Failed, Unsupported);

        var definition = manager.Define(spec, context, apply, cancel);
        var changes = new List<string>();

        if (spec.Enabled is { } enabled && manager.IsEnabled(spec.Name, context, cancel) != enabled)
        {
            if (apply)
            {
                if (enabled) manager.Enable(spec.Name, context, cancel);
                else manager.Disable(spec.Name, context, cancel);
            }
            changes.Add(enabled ? "enabled at boot" : "disabled at boot");
        }

        var running = manager.IsRunning(spec.Name, context, cancel);
        if (spec.Ensure == ServiceState.Running && !running)
        {
            if (apply) manager.Start(spec.Name, context, cancel);
            changes.Add("started");
        }
        else if (spec.Ensure == ServiceState.Stopped && running)
        {
            if (apply) manager.Stop(spec.Name, context, cancel);
            changes.Add("stopped");
        }
        else if (running && definition.IsChange)
        {
            // The new definition only takes effect in a new process.
            if (apply) manager.Restart(spec.Name, context, cancel);
            changes.Add("restarted for the new definition");
        }

        var action = definition.Action == ResourceAction.Created ? ResourceAction.Created
            : definition.IsChange || changes.Count > 0 ? ResourceAction.Changed
            : ResourceAction.Unchanged;
        // A definition's note (a dry run's "does not exist yet") is worth showing even when nothing else differs.
        if (definition.Message is not null) changes.Insert(0, definition.Message);
        if (changes.Count == 0) return ProviderResult.Unchanged;
        return new ProviderResult(action, $"{spec.Name}: {string.Join(", ", changes)}", definition.Detail);
    }

    public ProviderResult Refresh(ResourceSpec resource, ApplyContext context, bool apply, CancellationToken cancel)
    {
        var spec = (ServiceResource)resource;
        if (Manager is not { } manager) return new ProviderResult(ResourceAction.Failed, Unsupported);
        if (spec.Ensure == ServiceState.Stopped) return ProviderResult.Unchanged;

        if (manager.IsRunning(spec.Name, context, cancel))
        {
            if (apply) manager.Restart(spec.Name, context, cancel);
            return new ProviderResult(ResourceAction.Changed, $"{spec.Name}: restarted (notified)");
        }
        if (apply) manager.Start(spec.Name, context, cancel);
        return new ProviderResult(ResourceAction.Changed, $"{spec.Name}: started (notified)");
    }
}

/// <summary>
/// A host's service manager, as far as <see cref="ServiceProvider"/> needs it. Names are
/// validated service names (no '/', no leading '-'); every call acts on the host the context's
/// root stands for, and a failure is a <see cref="ResourceException"/> saying what the tool said.
/// A cancelled call kills the tool it runs and throws <see cref="OperationCanceledException"/>.
/// </summary>
public interface IServiceManager
{
    /// <summary>How messages name it: "systemd", "runit".</summary>
    string Name { get; }

    /// <summary>
    /// Makes sure the service is defined the way the resource says (runit: its service
    /// directory and run script). Says what differs; changes it only with <c>apply</c>.
    /// </summary>
    ProviderResult Define(ServiceResource service, ApplyContext context, bool apply, CancellationToken cancel);

    bool IsRunning(string name, ApplyContext context, CancellationToken cancel);
    void Start(string name, ApplyContext context, CancellationToken cancel);
    void Stop(string name, ApplyContext context, CancellationToken cancel);
    void Restart(string name, ApplyContext context, CancellationToken cancel);

    /// <summary>Whether the service starts at boot.</summary>
    bool IsEnabled(string name, ApplyContext context, CancellationToken cancel);

    /// <summary>Makes it start at boot, without starting it now.</summary>
    void Enable(string name, ApplyContext context, CancellationToken cancel);

    /// <summary>Keeps it from starting at boot, without stopping it now.</summary>
    void Disable(string name, ApplyContext context, CancellationToken cancel);
}

/// <summary>Which service manager a host has, and running its command-line tools.</summary>
public static class ServiceManagers
{
    /// <summary>
    /// systemd when it is PID 1; otherwise runit when its tools (<c>sv</c>, <c>runsvdir</c>) are
    /// installed (whether a runsvdir is running is checked when a service is first supervised);
    /// otherwise none.
    /// </summary>
    public static IServiceManager? ForThisHost()
    {
        if (PidOneIs("systemd")) return new SystemdServices();
        if (HostTools.OnPath("sv") && HostTools.OnPath("runsvdir")) return new RunitServices();
        return null;
    }

    private static bool PidOneIs(string name)
    {
        try
        {
            return File.ReadAllText("/proc/1/comm").Trim() == name;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
