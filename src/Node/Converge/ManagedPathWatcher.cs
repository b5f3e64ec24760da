namespace Mesh.Node.Converge;

/// <summary>
/// Notices, through inotify, when something touches a path a manifest manages, so a manual
/// edit is repaired within moments instead of at the next interval. Watches the parent
/// directories (a file replaced by rename is still seen) and reports the manifest whose path
/// was touched; the converger debounces and re-checks it. Mesh's own writes are reported too
/// and cost one no-op re-check.
/// </summary>
public sealed class ManagedPathWatcher(Action<string> touched) : IDisposable
{
    private readonly Dictionary<string, FileSystemWatcher> _watchers = new(StringComparer.Ordinal);
    private volatile IReadOnlyDictionary<string, string> _owners = new Dictionary<string, string>();

    /// <summary>Replaces what is watched: host path → the manifest that manages it.</summary>
    public void Watch(IReadOnlyDictionary<string, string> pathOwners)
    {
        _owners = pathOwners;
        var directories = pathOwners.Keys.Select(Path.GetDirectoryName).OfType<string>().Where(Directory.Exists).ToHashSet(StringComparer.Ordinal);
        foreach (var gone in _watchers.Keys.Where(d => !directories.Contains(d)).ToArray())
        {
            _watchers[gone].Dispose();
            _watchers.Remove(gone);
        }
        foreach (var dir in directories.Where(d => !_watchers.ContainsKey(d)))
        {
            try
            {
                var watcher = new FileSystemWatcher(dir)
                {
                    IncludeSubdirectories = false,
                    NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.Attributes
                        | NotifyFilters.Size | NotifyFilters.LastWrite | NotifyFilters.Security,
                };
                watcher.Changed += OnEvent;
                watcher.Created += OnEvent;
                watcher.Deleted += OnEvent;
                watcher.Renamed += (_, e) => { Report(e.OldFullPath); Report(e.FullPath); };
                watcher.EnableRaisingEvents = true;
                _watchers[dir] = watcher;
            }
            catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
            {
                // Out of inotify watches, or the directory vanished: the interval re-check still covers it.
            }
        }
    }

    private void OnEvent(object sender, FileSystemEventArgs e) => Report(e.FullPath);

    private void Report(string path)
    {
        if (_owners.TryGetValue(path, out var manifest)) touched(manifest);
    }

    public void Dispose()
    {
        foreach (var w in _watchers.Values) w.Dispose();
        _watchers.Clear();
    }
}
