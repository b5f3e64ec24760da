using System.Text.Json;
using Akka.Actor;
using Mesh.Protocol.Api;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Audit;

/// <summary>
/// The node's append-only audit trail, one JSON object per line in <c>&lt;data-dir&gt;/audit.log</c>.
/// Lines are only ever appended; an operator can ship the file to a log system as it is.
/// </summary>
public sealed class AuditLog(string dataDir, string node)
{
    private readonly string _path = Path.Combine(dataDir, "audit.log");
    private readonly Lock _lock = new();

    public void Write(string kind, string manifest, string version, string who, string detail)
    {
        var line = JsonSerializer.Serialize(new AuditEntry(DateTimeOffset.UtcNow, node, kind, manifest, version, who, detail), ApiJson.Options);
        lock (_lock)
        {
            try
            {
                File.AppendAllText(_path, line + "\n");
            }
            catch (IOException)
            {
                // A full disk must not stop the node enforcing; the report still goes out.
            }
        }
    }

    /// <summary>The newest <paramref name="limit"/> entries since a time, oldest first.</summary>
    public AuditEntry[] Read(DateTimeOffset? since, int limit)
    {
        lock (_lock)
        {
            if (!File.Exists(_path)) return [];
            var entries = new List<AuditEntry>();
            foreach (var line in File.ReadLines(_path))
            {
                AuditEntry? entry;
                try
                {
                    entry = JsonSerializer.Deserialize<AuditEntry>(line, ApiJson.Options);
                }
                catch (JsonException)
                {
                    continue; // a torn last line after a crash
                }
                if (entry is not null && (since is null || entry.Time >= since)) entries.Add(entry);
            }
            return entries.TakeLast(Math.Clamp(limit, 1, 5000)).ToArray();
        }
    }
}

/// <summary>Answers audit queries from any node: <c>mesh audit</c> reads the trail cluster-wide.</summary>
public sealed class AuditServer : ReceiveActor
{
    public const string Name = "audit";

    public AuditServer(AuditLog log, string node)
    {
        Receive<AuditQuery>(q => Sender.Tell(new AuditEntries(node, log.Read(q.Since, q.Limit))));
    }
}
