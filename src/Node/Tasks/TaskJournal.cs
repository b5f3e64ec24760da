namespace Mesh.Node.Tasks;

/// <summary>
/// What this node did with each task, on its own disk, so that no task ever runs twice here,
/// across restarts and crashes: <c>&lt;data-dir&gt;/tasks/journal</c>, one line per step
/// (<c>started ID EXPIRES</c> before the command runs, <c>done ID EXPIRES</c> once its result
/// is recorded, or when the node decided not to run it), each flushed to the disk before the
/// step it announces. A task found started and not done after a restart was interrupted: it is
/// reported failed and never run again. Lines of tasks expired longer ago than the retention
/// are dropped at compaction: an expired task is never started anyway.
/// </summary>
public sealed class TaskJournal
{
    private readonly string _path;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, long> _started = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _done = new(StringComparer.Ordinal);

    public TaskJournal(string dataDir)
    {
        var dir = Path.Combine(dataDir, "tasks");
        Directory.CreateDirectory(dir);
        _path = Path.Combine(dir, "journal");
        if (!File.Exists(_path)) return;
        foreach (var line in File.ReadLines(_path))
        {
            var parts = line.Split(' ');
            // A torn last line (a crash while appending) is one whose step never happened.
            if (parts.Length != 3 || !long.TryParse(parts[2], out var expires)) continue;
            if (parts[0] == "started") _started[parts[1]] = expires;
            else if (parts[0] == "done") _done[parts[1]] = expires;
        }
        _interrupted = _started.Where(e => !_done.ContainsKey(e.Key)).OrderBy(e => e.Key, StringComparer.Ordinal)
            .Select(e => (e.Key, DateTimeOffset.FromUnixTimeMilliseconds(e.Value))).ToArray();
    }

    private readonly (string Id, DateTimeOffset Expires)[] _interrupted = [];

    /// <summary>True when this node started or settled the task before: it must not start it (again).</summary>
    public bool Knows(string id)
    {
        lock (_lock) return _started.ContainsKey(id) || _done.ContainsKey(id);
    }

    private bool _interruptedTaken;

    /// <summary>
    /// Tasks the journal showed started and never settled when it was read: the node stopped
    /// while they ran. Given once (an actor restarted within the same node, whose tasks still
    /// run, gets none).
    /// </summary>
    public IReadOnlyList<(string Id, DateTimeOffset Expires)> TakeInterrupted()
    {
        lock (_lock)
        {
            if (_interruptedTaken) return [];
            _interruptedTaken = true;
            return _interrupted;
        }
    }

    /// <summary>Records, durably, that the task starts now. Throws when the disk refuses: then the task must not run.</summary>
    public void Start(string id, DateTimeOffset expires) => Append("started", id, expires, _started);

    /// <summary>Records, durably, that the task is settled here (ran, or will not run).</summary>
    public void Done(string id, DateTimeOffset expires) => Append("done", id, expires, _done);

    private void Append(string step, string id, DateTimeOffset expires, Dictionary<string, long> into)
    {
        lock (_lock)
        {
            var at = expires.ToUnixTimeMilliseconds();
            using (var file = new FileStream(_path, FileMode.Append, FileAccess.Write, FileShare.Read))
            {
                file.Write(System.Text.Encoding.UTF8.GetBytes($"{step} {id} {at}\n"));
                file.Flush(flushToDisk: true);
            }
            into[id] = at;
        }
    }

    /// <summary>Drops the lines of tasks that expired before <paramref name="before"/> (written to a new file, flushed, renamed over the old).</summary>
    public void Compact(DateTimeOffset before)
    {
        lock (_lock)
        {
            var limit = before.ToUnixTimeMilliseconds();
            var old = _started.Where(e => e.Value < limit && _done.ContainsKey(e.Key)).Select(e => e.Key)
                .Concat(_done.Where(e => e.Value < limit && !_started.ContainsKey(e.Key)).Select(e => e.Key)).ToArray();
            if (old.Length == 0) return;
            foreach (var id in old)
            {
                _started.Remove(id);
                _done.Remove(id);
            }
            var temp = _path + ".new";
            using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
            {
                var text = string.Concat(_started.Select(e => $"started {e.Key} {e.Value}\n").Concat(_done.Select(e => $"done {e.Key} {e.Value}\n")));
                file.Write(System.Text.Encoding.UTF8.GetBytes(text));
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, _path, overwrite: true);
        }
    }
}
