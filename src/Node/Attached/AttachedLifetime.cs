using Akka.Configuration;
using Mesh.Node.Configuration;

namespace Mesh.Node.Attached;

/// <summary>
/// Runs mesh-node as an attached host until it is told to stop. Its <c>ClusterClient</c> finds a
/// core peer again by itself when the one it used goes away, so, unlike a member, it never needs a
/// new incarnation. Exit 0 on a stop signal; 2 on a configuration error, a busy port, or a refusal
/// by the core (the host's name is a member's); 1 when the actor system stopped otherwise.
/// Under systemd (<c>Type=notify</c>) it is ready once started: it enforces what it last knew
/// whether or not a peer answers yet.
/// </summary>
public static class AttachedLifetime
{
    public static async Task<int> RunAsync(Config config, Task stop, TextWriter output, TextWriter error, Service.SystemdNotify? systemd = null)
    {
        AttachedNode node;
        try
        {
            var settings = NodeSettings.From(config);
            Membership.ClusterPort.RequireFree(settings.Host, settings.Port);
            node = AttachedNode.Start(config);
        }
        catch (Exception e) when (e is ConfigurationException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"mesh-node: {e.Message}");
            return 2;
        }

        var name = node.Settings.Name;
        output.WriteLine($"mesh-node {name}: attached host (not a member), core {string.Join(" ", node.Settings.Attached.Contacts)}, " +
            $"root {node.Settings.Root}, data {node.Settings.DataDir}");
        if (!node.Settings.Trust.Enforced)
            error.WriteLine($"mesh-node {name}: WARNING: no trusted signing keys (mesh.trusted-keys / --trust): this host applies UNSIGNED changes its core relays");
        systemd?.Send("READY=1", $"STATUS=attached host; core {string.Join(" ", node.Settings.Attached.Contacts)}");
        await Task.WhenAny(stop, node.System.WhenTerminated);
        systemd?.Send("STOPPING=1");
        if (stop.IsCompleted)
        {
            output.WriteLine($"mesh-node {name}: detaching");
            await node.DisposeAsync();
            return 0;
        }
        if (node.Status.Refusal is { } refusal)
        {
            error.WriteLine($"mesh-node {name}: {refusal}");
            return 2;
        }
        error.WriteLine($"mesh-node {name}: stopping: the actor system stopped{(Security.NodeTls.StoppedByHandshake(node.System) ? " (a TLS handshake with a peer failed)" : "")}");
        return 1;
    }
}
