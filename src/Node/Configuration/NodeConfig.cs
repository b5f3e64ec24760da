using System.Reflection;
using System.Text;
using Akka.Configuration;

namespace Mesh.Node.Configuration;

/// <summary>
/// Builds the node's configuration in three layers: the <c>cluster.hocon</c> embedded in the
/// binary (so a bare <c>mesh-node</c> works), then a <c>cluster.hocon</c> file when one is
/// given or found in the working directory, then command-line flags.
/// </summary>
public static class NodeConfig
{
    public static Config Embedded()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("cluster.hocon")
            ?? throw new InvalidOperationException("cluster.hocon is not embedded in mesh-node");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }

    /// <summary>The file layer: an explicit path, else ./cluster.hocon when present, over the embedded defaults.</summary>
    public static Config Load(string? path)
    {
        var config = Embedded();
        path ??= File.Exists("cluster.hocon") ? "cluster.hocon" : null;
        if (path is null) return config;
        if (!File.Exists(path)) throw new ConfigurationException($"configuration file '{path}' does not exist");
        try
        {
            // Where the file is: the default home of the node's custom facts (mesh.facts.directory).
            var here = ConfigurationFactory.ParseString($"mesh.config-dir = {Hocon(Path.GetDirectoryName(Path.GetFullPath(path)) ?? "")}");
            return ConfigurationFactory.ParseString(File.ReadAllText(path)).WithFallback(here).WithFallback(config);
        }
        catch (Exception e) when (e is not (ConfigurationException or IOException or UnauthorizedAccessException))
        {
            // The HOCON parser's own exceptions (format, null argument) do not say which file.
            throw new ConfigurationException($"configuration file '{path}' is not valid HOCON: {e.Message}");
        }
    }

    /// <summary>Lays the given <c>mesh.*</c> values (from flags) over a configuration.</summary>
    public static Config Override(Config config, IReadOnlyDictionary<string, object> meshValues)
    {
        if (meshValues.Count == 0) return config;
        var hocon = new StringBuilder();
        foreach (var (key, value) in meshValues)
            hocon.Append("mesh.").Append(key).Append(" = ").AppendLine(Hocon(value));
        return ConfigurationFactory.ParseString(hocon.ToString()).WithFallback(config);
    }

    /// <summary>The Akka part, derived from the settings so that a node has one source of truth.</summary>
    /// <param name="publicKey">the node's public encryption key, published among its roles</param>
    public static Config ForAkka(NodeSettings settings, Config config, byte[]? publicKey = null)
    {
        var roles = Membership.NodeRoles.Encode(settings.Name, settings.Roles, settings.Labels, publicKey);
        // Akka's receptionist and its pub-sub run on (and gossip among) the members with this role only.
        if (settings.Attached.Serve) roles = roles.Append(AttachedSettings.CoreRole);
        var derived = Transport(settings) + $$"""
            akka.cluster.roles = [{{string.Join(", ", roles.Select(Hocon))}}]
            akka.cluster.distributed-data.durable.mesh.dir = {{Hocon(Path.Combine(settings.DataDir, "ddata"))}}
            akka.cluster.client.receptionist.response-tunnel-receive-timeout = {{(long)Math.Max(100_000, 3.5 * settings.Attached.KeepAlive.TotalMilliseconds)}}ms
            """;
        return ConfigurationFactory.ParseString(derived).WithFallback(config);
    }

    /// <summary>
    /// The Akka part of an attached host: remoting only (no cluster, no replicator), the same
    /// serializers and transport settings as a member's, and the core peers as the
    /// <c>ClusterClient</c>'s contacts.
    /// </summary>
    public static Config ForAttachedHost(NodeSettings settings, Config config)
    {
        var derived = Transport(settings) + $$"""
            akka.actor.provider = remote
            akka.cluster.client.initial-contacts = [{{string.Join(", ", settings.Attached.Contacts.Select(c => Hocon(c + "/system/receptionist")))}}]
            """;
        // The client's messages reach the receptionist as Akka pub-sub's Send: its serializer, as on the peers.
        return ConfigurationFactory.ParseString(derived).WithFallback(config)
            .WithFallback(Akka.Cluster.Tools.PublishSubscribe.DistributedPubSub.DefaultConfig());
    }

    /// <summary>Where the node listens and what address it gives its peers: a member's and an attached host's alike.</summary>
    private static string Transport(NodeSettings settings) => $"""
        akka.remote.dot-netty.tcp.hostname = {Hocon(settings.Host)}
        akka.remote.dot-netty.tcp.port = {settings.Port}
        akka.remote.dot-netty.tcp.public-hostname = {Hocon(settings.PublicHost.Length > 0 ? settings.PublicHost : settings.Host)}

        """;

    private static string Hocon(object value) => value switch
    {
        string s => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"",
        int or long => value.ToString()!,
        bool b => b ? "on" : "off",
        IEnumerable<string> list => "[" + string.Join(", ", list.Select(Hocon)) + "]",
        IReadOnlyDictionary<string, string> map => "{" + string.Join(", ", map.Select(kv => Hocon(kv.Key) + " = " + Hocon(kv.Value))) + "}",
        _ => throw new ArgumentException($"cannot express {value.GetType()} in HOCON"),
    };
}
