namespace Mesh.Node.Facts;

/// <summary>
/// To the converger: the fleet templates see changed (a member came, went past its grace, or
/// published new facts), or, with <see cref="OwnFacts"/>, this node's own facts changed.
/// </summary>
public sealed record FleetChanged(bool OwnFacts)
{
    public static readonly FleetChanged Members = new(false);
    public static readonly FleetChanged Own = new(true);
}
