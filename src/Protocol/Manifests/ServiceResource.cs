using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Mesh.Protocol.Manifests;

/// <summary>
/// A service of the node's service manager (systemd, or runit where PID 1 is not systemd):
/// <c>ensure: running|stopped</c> (default running) and, when given, <c>enabled</c> (starts at
/// boot). Leaving <c>enabled</c> out leaves boot behaviour as it is, the way <c>systemctl start</c>
/// does not enable. With runit, <c>run</c> defines the service in the manifest itself: it becomes
/// the body of <c>/etc/sv/&lt;name&gt;/run</c>; without it the service must already be defined.
/// </summary>
public sealed partial record ServiceResource(string Id, string[] Requires, string Name, ServiceState Ensure, bool? Enabled)
    : ResourceSpec(Id, Requires)
{
    public const string KindName = "service";

    /// <summary>Where a runit service directory lives, under the node's root.</summary>
    public const string RunitServiceDirectory = "/etc/sv";

    public override string Kind => KindName;

    /// <summary>The run script Mesh writes, so no other resource may manage it and an edit to it is noticed.</summary>
    public override string? ManagedPath => Run is null ? null : $"{RunitServiceDirectory}/{Name}/run";

    /// <summary>The command line of a runit service's run script (it should <c>exec</c> the daemon).</summary>
    public string? Run { get; init; }

    // A unit or service directory name: no '/', and never starting with '-' or '.', so it can
    // neither leave the service directory nor be read as an option by systemctl or sv.
    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9_@:.-]{0,254}$")]
    private static partial Regex NamePattern();

    internal static ResourceSpec Parse(FieldReader f, string id, string[] requires)
    {
        var name = f.String("name", required: true);
        if (name is not null && !NamePattern().IsMatch(name))
            f.Context.Error(f.Raw("name")!, f.Field("name"),
                $"'{name}' is not a service name (letters, digits and _ @ : . -, starting with a letter, digit or _, at most 255)");

        var ensure = ServiceState.Running;
        switch (f.String("ensure"))
        {
            case null or "running": break;
            case "stopped": ensure = ServiceState.Stopped; break;
            case var other: f.Context.Error(f.Raw("ensure")!, f.Field("ensure"), $"'{other}' is not one of: running, stopped"); break;
        }

        var enabled = f.Bool("enabled");

        var run = f.String("run");
        if (run is not null && string.IsNullOrWhiteSpace(run))
        {
            f.Context.Error(f.Raw("run")!, f.Field("run"), "is empty (leave it out to use a service that is already defined)");
            run = null;
        }
        else if (run is not null && run.Contains('\0'))
        {
            f.Context.Error(f.Raw("run")!, f.Field("run"), "contains a NUL character");
            run = null;
        }

        return new ServiceResource(id, requires, name ?? "", ensure, enabled) { Run = run };
    }

    internal override void WriteFields(JsonObject into)
    {
        into["name"] = Name;
        if (Ensure == ServiceState.Stopped) into["ensure"] = "stopped";
        if (Enabled is { } enabled) into["enabled"] = enabled ? "true" : "false";
        if (Run is not null) into["run"] = Run;
    }
}

/// <summary>The two states a service can be asked for.</summary>
public enum ServiceState { Running, Stopped }
