using System.Text.Json;
using Akka.Actor;
using Mesh.Protocol.Api;
using Mesh.Protocol.Wire;

namespace Mesh.Node.Audit;

/// <summary>
/// The node's append-only audit trail, one JSON object per line in <c>&lt;data-dir&gt;/audit.log</c>.
/// Lines are only ever appended; an operator can ship the file to a log system as it is. The
/// file is rotated by <see cref="AuditRotation"/> (renamed to <c>audit.log.1</c>, and so on)
/// under the same lock as the appends, so a line is always whole, in one file.
/// </summary>
public sealed class AuditLog(string dataDir, string node, AuditRotation? rotation = null)
{
    private readonly string _path = Path.Combine(dataDir, "audit.log");
    private readonly AuditRotation _rotation = rotation ?? AuditRotation.Default;
    private readonly Lock _lock = new();
    /// <summary>When the current file's first line was written; read from the file once, then kept.</summary>
    private DateTimeOffset? _started;
    private bool _startKnown;

    public void Write(string kind, string manifest, string version, string who, string detail)
    {
        lock (_lock)
        {
            // Stamped under the lock, so the trail is in time order across threads.
            var now = DateTimeOffset.UtcNow;
            var line = JsonSerializer.Serialize(new AuditEntry(now, node, kind, manifest, version, who, detail), ApiJson.Options) + "\n";
            try
            {
                try
                {
                    RotateIfDue(System.Text.Encoding.UTF8.GetByteCount(line), now);
                }
                catch (IOException)
                {
                    // Could not rename: the line goes into the current file, which grows past its limit.
                }
                File.AppendAllText(_path, line);
                _started ??= now;
            }
            catch (IOException)
            {
                // A full disk must not stop the node enforcing; the report still goes out.
            }
        }
    }

    /// <summary>Called under the lock, before an append: starts a new file when the current one is full or old.</summary>
    private void RotateIfDue(long incoming, DateTimeOffset now)
    {
        var size = File.Exists(_path) ? new FileInfo(_path).Length : 0;
        if (!_startKnown)
        {
            _started = size > 0 ? FirstEntryTime() : null;
            _startKnown = true;
        }
        if (!_rotation.Due(size, incoming, _started, now)) return;
        File.Delete(AuditRotation.Old(_path, _rotation.Keep));
        for (var n = _rotation.Keep - 1; n >= 1; n--)
            if (File.Exists(AuditRotation.Old(_path, n))) File.Move(AuditRotation.Old(_path, n), AuditRotation.Old(_path, n + 1));
        File.Move(_path, AuditRotation.Old(_path, 1));
        _started = null;
    }

    private DateTimeOffset? FirstEntryTime() => Entries(File.ReadLines(_path).Take(1)).FirstOrDefault()?.Time;

    /// <summary>The newest <paramref name="limit"/> entries since a time, oldest first, across the rotated files.</summary>
    public AuditEntry[] Read(DateTimeOffset? since, int limit)
    {
        lock (_lock)
        {
            return _rotation.Files(_path).Where(File.Exists)
                .SelectMany(file => Entries(File.ReadLines(file)))
                .Where(entry => since is null || entry.Time >= since)
                .TakeLast(Math.Clamp(limit, 1, 5000))
                .ToArray();
        }
    }

    private static IEnumerable<AuditEntry> Entries(IEnumerable<string> lines)
    {
        foreach (var line in lines)
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
            if (entry is not null) yield return entry;
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
