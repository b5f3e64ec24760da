using System.Reflection;
using Akka.Event;
using Mesh.Node.Observability;

namespace Mesh.Node.Tests.Observability;

/// <summary>The ERROR "Disassociated" of a connection that ended is dropped; every other event is kept.</summary>
public sealed class DisassociatedErrorFilterTests
{
    private const string Writer = "akka://mesh/system/endpointManager/reliableEndpointWriter-akka.tcp%3A%2F%2Fmesh%40127.0.0.1%3A4710-2/endpointWriter";

    /// <summary>Akka.Remote's own exception, internal to it, made as its endpoint writer makes it.</summary>
    private static Exception Disassociated() =>
        (Exception)Activator.CreateInstance(typeof(Akka.Remote.RemoteSettings).Assembly.GetType("Akka.Remote.EndpointDisassociatedException", throwOnError: true)!,
            BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, null, ["Disassociated"], null)!;

    private static bool Kept(LogEvent e) => new LogFilterEvaluator([new DisassociatedErrorFilter()]).ShouldTryKeepMessage(e, out _);

    [Fact]
    public void The_error_of_an_ended_association_is_dropped()
    {
        Assert.False(Kept(new Error(Disassociated(), Writer, typeof(object), "Disassociated")));
    }

    [Fact]
    public void The_warning_about_the_same_association_and_every_other_error_are_kept()
    {
        Assert.True(Kept(new Warning(Disassociated(), Writer, typeof(object), "Association with remote system has failed; address is now gated for 5000 ms")));
        Assert.True(Kept(new Error(new InvalidOperationException("Disassociated"), Writer, typeof(object), "Disassociated")));
        Assert.True(Kept(new Error(null, "akka://mesh/user/converger", typeof(object), "apply failed")));
    }
}
