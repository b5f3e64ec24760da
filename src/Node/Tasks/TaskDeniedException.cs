namespace Mesh.Node.Tasks;

/// <summary>A task refused by this node's trust list at its API (HTTP 403): nothing was recorded.</summary>
public sealed class TaskDeniedException(string why)
    : Exception($"refused: the task is not signed by a key this node trusts for tasks ({why}); nothing was recorded");
