namespace Mesh.Node.Providers;

/// <summary>
/// Maps a manifest path (<c>/srv/app</c>) to the host path under the node's root, and makes
/// sure getting there does not pass through a symlink that leads out of the root. The last
/// component is not followed here: providers decide what a symlink in that place means.
/// </summary>
public static class RootedPath
{
    public static string Resolve(string root, string manifestPath)
    {
        var realRoot = RealPath(Path.GetFullPath(root));
        var relative = manifestPath.TrimStart('/');
        if (relative.Length == 0) return realRoot;
        var full = Path.GetFullPath(Path.Combine(realRoot, relative));
        if (!IsUnder(full, realRoot))
            throw new ResourceException($"{manifestPath} resolves outside the root");

        // Walk the parents from the root down: each existing symlink must land inside the root.
        var current = realRoot;
        var segments = relative.Split('/');
        for (var i = 0; i < segments.Length - 1; i++)
        {
            current = Path.Combine(current, segments[i]);
            var info = new FileInfo(current);
            if (info.LinkTarget is null) continue;
            var target = info.ResolveLinkTarget(returnFinalTarget: true)?.FullName;
            if (target is null || !IsUnder(RealPath(target), realRoot))
                throw new ResourceException($"{manifestPath}: /{string.Join('/', segments[..(i + 1)])} is a symlink that leads outside the root");
        }
        return full;
    }

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
