namespace Mesh.Node;

/// <summary>A push refused by compare-and-set: each line names a manifest whose head moved on, and to what.</summary>
public sealed class PushConflictException(IReadOnlyList<string> conflicts)
    : Exception("refused: the manifest changed since you looked; review it (mesh get), then push again, or push --force:\n  " + string.Join("\n  ", conflicts));
