namespace Mesh.Node.Providers;

/// <summary>
/// Maps a manifest path (<c>/srv/app</c>) to the host path under the node's root, and makes
/// sure getting there does not pass through a symlink that leads out of the root. The last
/// component is not followed here: providers decide what a symlink in that place means.
/// </summary>
public sealed class RootedPath
{
    private readonly string _realRoot;

    // Parents already walked and found safe during this apply: a manifest of a thousand files in
    // one directory checks that directory once, not a thousand times.
    private readonly HashSet<string> _safeParents = new(StringComparer.Ordinal);

    public RootedPath(string root) => _realRoot = RealPath(Path.GetFullPath(root));

    public static string Resolve(string root, string manifestPath) => new RootedPath(root).Resolve(manifestPath);

    public string Resolve(string manifestPath)
    {
        var relative = manifestPath.TrimStart('/');
        if (relative.Length == 0) return _realRoot;
        var full = Path.GetFullPath(Path.Combine(_realRoot, relative));
        if (!IsUnder(full, _realRoot))
            throw new ResourceException($"{manifestPath} resolves outside the root");

        // Walk the parents from the root down: each existing symlink must land inside the root.
        var parent = Path.GetDirectoryName(full)!;
        lock (_safeParents)
        {
            if (_safeParents.Contains(parent)) return full;
        }
        var current = _realRoot;
        var segments = relative.Split('/');
        for (var i = 0; i < segments.Length - 1; i++)
        {
            current = Path.Combine(current, segments[i]);
            var info = new FileInfo(current);
            if ((info.Attributes & FileAttributes.ReparsePoint) == 0 || info.LinkTarget is null) continue;
            var target = info.ResolveLinkTarget(returnFinalTarget: true)?.FullName;
            if (target is null || !IsUnder(RealPath(target), _realRoot))
                throw new ResourceException($"{manifestPath}: /{string.Join('/', segments[..(i + 1)])} is a symlink that leads outside the root");
        }
        lock (_safeParents)
        {
            _safeParents.Add(parent);
        }
        return full;
    }

    /// <summary>Whether a node's root is the host itself (<c>/</c>) rather than a sandbox directory.</summary>
    public static bool IsHostRoot(string root) => Path.GetFullPath(root) == "/";

    public static bool IsUnder(string path, string root) =>
        path == root || path.StartsWith(root.EndsWith('/') ? root : root + "/", StringComparison.Ordinal);

    /// <summary>The path with every symlink along it resolved (components that do not exist are kept as they are).</summary>
    private static string RealPath(string path)
    {
        var root = Path.GetPathRoot(path)!;
        var result = root;
        foreach (var segment in path[root.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            result = Path.Combine(result, segment);
            var info = new FileInfo(result);
            if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
                result = target.FullName;
        }
        return result;
    }
}
