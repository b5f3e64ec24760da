namespace Mesh.Protocol.Wire;

/// <summary>
/// Asks a node what it would do with a revision that is not pushed (a dry run). The body is
/// pulled by hash from the revision's origin; the answer is an <see cref="ApplyReport"/> of
/// the plan, diffs included.
/// </summary>
public sealed record PlanRequest(RevisionRecord Revision);
