using Akka.Actor.Setup;
using Akka.Event;

namespace Mesh.Node.Observability;

/// <summary>
/// Drops the ERROR "Disassociated" that Akka's remoting logs whenever a connection to a peer
/// ends, a graceful leave included: the endpoint writer throws when its connection closes, and
/// its supervisor logs the exception as an error. The same supervisor has already logged the
/// event as a warning ("Association with remote system ... has failed; address is now gated",
/// with this exception as the reason), so the error adds nothing but a false alarm on every
/// leave and restart. Every Akka logger the node uses honours it (the console's and
/// <see cref="Service.JournalLogger"/>).
/// </summary>
public sealed class DisassociatedErrorFilter : LogFilterBase
{
    /// <summary>Akka.Remote's exception for "the connection ended"; internal to Akka, so known by name.</summary>
    private const string Disassociated = "Akka.Remote.EndpointDisassociatedException";

    /// <summary>The node's log filters, for its actor system's setup.</summary>
    public static Setup Setup { get; } = new LogFilterBuilder().Add(new DisassociatedErrorFilter()).Build();

    /// <summary>Decided on the event alone (no message to expand), so it costs next to nothing.</summary>
    public override LogFilterType FilterType => LogFilterType.Source;

    public override LogFilterDecision ShouldKeepMessage(LogEvent content, string? expandedMessage = null) =>
        content is Error { Cause: { } cause } && cause.GetType().FullName == Disassociated ? LogFilterDecision.Drop : LogFilterDecision.Keep;
}
