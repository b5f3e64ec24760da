namespace Mesh.Node.Converge;

/// <summary>
/// The converger's latest <see cref="EnforcementProgress"/>, readable from any thread. The
/// converger publishes after every decision; a readiness probe reads the last one without
/// asking the actor, so a probe never waits behind the converger's mailbox and needs no
/// timeout of its own. Null until the converger has started.
/// </summary>
public sealed class ConvergeProgress
{
    private volatile EnforcementProgress? _latest;

    public EnforcementProgress? Latest => _latest;

    public void Publish(EnforcementProgress progress) => _latest = progress;
}
