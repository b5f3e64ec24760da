using Akka.Configuration;

namespace Mesh.Node.Configuration;

/// <summary>
/// Hosts attached to a core of peers instead of joining the cluster (<c>mesh.attach</c>,
/// docs/SCALING.md). <see cref="Contacts"/>: the core peers an attached host reaches (HOST:PORT
/// or full Akka addresses); empty on a member. <see cref="Serve"/>: this member is a core peer
/// that serves attached hosts (runs Akka's <c>ClusterClientReceptionist</c>).
/// <see cref="KeepAlive"/>: how often a host tells its peer it is there (and compares heads with it);
/// a peer forgets a host silent for three of them.
/// </summary>
public sealed record AttachedSettings(string[] Contacts, bool Serve, TimeSpan KeepAlive)
{
    public static readonly AttachedSettings Default = new([], false, TimeSpan.FromSeconds(30));

    /// <summary>
    /// The Akka role of a core peer: the receptionist and Akka's pub-sub it brings run among these
    /// members only (<c>akka.cluster.client.receptionist.role</c>, <c>akka.cluster.pub-sub.role</c>),
    /// so members that serve no hosts get no pub-sub gossip, and hosts are never sent to them.
    /// </summary>
    public const string CoreRole = "mesh-core";

    /// <summary>This node is an attached host, not a member.</summary>
    public bool IsHost => Contacts.Length > 0;

    public static AttachedSettings From(Config mesh, bool tls)
    {
        var contacts = mesh.GetStringList("attach").Select(c => NodeSettings.SeedAddress(c, tls, "--attach")).ToArray();
        var keepAlive = mesh.GetTimeSpan("attached.keep-alive", Default.KeepAlive);
        if (keepAlive < TimeSpan.FromMilliseconds(100)) throw new ConfigurationException("mesh.attached.keep-alive must be at least 100ms");
        var serve = mesh.GetBoolean("attached.serve", false);
        if (contacts.Length > 0 && mesh.GetStringList("seeds").Count > 0)
            throw new ConfigurationException("mesh.attach and mesh.seeds are both set: a node either joins the cluster (--seed) or attaches to its core (--attach), not both");
        if (contacts.Length > 0 && serve)
            throw new ConfigurationException("mesh.attached.serve is on, but this node attaches to a core (mesh.attach): only a member serves attached hosts");
        return new AttachedSettings(contacts, serve, keepAlive);
    }
}
