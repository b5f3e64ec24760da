namespace Mesh.Node.Converge;

/// <summary>
/// Refreshes a resource was notified of but that did not happen (a <c>refresh_only</c> command
/// or a service restart that failed, or never ran because the resource failed first), kept
/// until one succeeds: "restart after a config change" happens on a later run even though the
/// change itself is not repeated. One empty file per pending refresh under
/// <c>&lt;data-dir&gt;/refresh/&lt;manifest&gt;/&lt;resource id&gt;</c>, so a restart of the node does
/// not forget it; the set in memory stays right when the disk is full.
/// </summary>
public sealed class PendingRefreshes
{
    private readonly string _dir;
    private readonly HashSet<(string Manifest, string Id)> _pending = [];
    private readonly Lock _lock = new();

    public PendingRefreshes(string dir)
    {
        _dir = dir;
        if (!Directory.Exists(dir)) return;
        foreach (var manifest in Directory.EnumerateDirectories(dir))
            foreach (var id in Directory.EnumerateFiles(manifest))
                _pending.Add((Uri.UnescapeDataString(Path.GetFileName(manifest)), Uri.UnescapeDataString(Path.GetFileName(id))));
    }

    public bool IsPending(string manifest, string id)
    {
        lock (_lock) return _pending.Contains((manifest, id));
    }

    /// <summary>Remembers (<paramref name="pending"/>) or forgets the refresh of one resource.</summary>
    public void Set(string manifest, string id, bool pending)
    {
        lock (_lock)
        {
            if (pending ? !_pending.Add((manifest, id)) : !_pending.Remove((manifest, id))) return;
            var file = FileOf(manifest, id);
            try
            {
                if (pending)
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                    using var stream = new FileStream(file, FileMode.Create, FileAccess.Write);
                    stream.Flush(flushToDisk: true);
                }
                else File.Delete(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Kept in memory all the same: only a restart while the disk is full forgets it.
            }
        }
    }

    /// <summary>Forgets the refreshes of a manifest's resources that are no longer in it.</summary>
    public void Retain(string manifest, IReadOnlySet<string> ids)
    {
        (string Manifest, string Id)[] gone;
        lock (_lock) gone = _pending.Where(p => p.Manifest == manifest && !ids.Contains(p.Id)).ToArray();
        foreach (var (name, id) in gone) Set(name, id, pending: false);
    }

    private string FileOf(string manifest, string id) => Path.Combine(_dir, Uri.EscapeDataString(manifest), Uri.EscapeDataString(id));
}
