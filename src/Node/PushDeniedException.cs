namespace Mesh.Node;

/// <summary>A change refused by this node's trust list: each line names a manifest and why its signature is not accepted.</summary>
public sealed class PushDeniedException(IReadOnlyList<string> refusals)
    : Exception("refused: not signed by a key this node trusts; nothing was pushed:\n  " + string.Join("\n  ", refusals));
