using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Mesh.Protocol.Manifests;

namespace Mesh.Node.Providers;

/// <summary>What templates may know about the node they render on: <c>{{ node.name }}</c>, <c>{{ node.cpus }}</c>, …</summary>
public sealed record NodeFacts(
    string Name,
    string[] Roles,
    IReadOnlyDictionary<string, string> Labels,
    string Hostname,
    string Os,
    int Cpus,
    long MemoryBytes,
    string[] Addresses)
{
    public static NodeFacts Minimal(string name) => new(name, [], new Dictionary<string, string>(), name, "linux", 1, 0, []);

    /// <summary>Reads the facts of this host once, at start.</summary>
    public static NodeFacts Gather(NodeIdentity identity) => new(
        identity.Name,
        identity.Roles.Order(StringComparer.Ordinal).ToArray(),
        identity.Labels,
        Environment.MachineName,
        OsName(),
        Environment.ProcessorCount,
        GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
        LocalAddresses());

    public JsonObject ToJson() => new()
    {
        ["name"] = Name,
        ["roles"] = new JsonArray(Roles.Select(r => (JsonNode?)r).ToArray()),
        ["labels"] = new JsonObject(Labels.Select(l => KeyValuePair.Create(l.Key, (JsonNode?)l.Value))),
        ["hostname"] = Hostname,
        ["os"] = Os,
        ["cpus"] = Cpus,
        ["memory_mb"] = MemoryBytes / (1024 * 1024),
        ["addresses"] = new JsonArray(Addresses.Select(a => (JsonNode?)a).ToArray()),
    };

    private static string OsName()
    {
        try
        {
            var release = File.ReadAllLines("/etc/os-release")
                .FirstOrDefault(l => l.StartsWith("PRETTY_NAME=", StringComparison.Ordinal));
            if (release is not null) return release["PRETTY_NAME=".Length..].Trim('"');
        }
        catch (IOException)
        {
            // Not every system has /etc/os-release.
        }
        return System.Runtime.InteropServices.RuntimeInformation.OSDescription;
    }

    private static string[] LocalAddresses()
    {
        try
        {
            return NetworkInterface.GetAllNetworkInterfaces()
                .Where(n => n.OperationalStatus == OperationalStatus.Up)
                .SelectMany(n => n.GetIPProperties().UnicastAddresses)
                .Where(a => a.Address.AddressFamily is AddressFamily.InterNetwork or AddressFamily.InterNetworkV6)
                .Select(a => a.Address.ToString())
                .Distinct()
                .ToArray();
        }
        catch (NetworkInformationException)
        {
            return [];
        }
    }
}
