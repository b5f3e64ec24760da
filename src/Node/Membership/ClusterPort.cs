using System.Net;
using System.Net.Sockets;

namespace Mesh.Node.Membership;

/// <summary>
/// Refuses to start on a cluster port another process holds. Akka's transport binds with port
/// reuse, so a second node on a busy port would start and share the port with the first (the
/// kernel then splits the peers' connections between the two) instead of failing.
/// </summary>
public static class ClusterPort
{
    /// <exception cref="IOException">the port is taken; the message names it.</exception>
    public static void RequireFree(string host, int port)
    {
        if (port == 0) return; // the system picks a free one
        var address = IPAddress.TryParse(host, out var parsed) ? parsed
            : Dns.GetHostAddresses(host).FirstOrDefault() ?? throw new IOException($"cluster host '{host}' does not resolve");
        using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // A plain bind, without SO_REUSEPORT: it fails while any other socket holds the port.
            probe.Bind(new IPEndPoint(address, port));
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressAlreadyInUse)
        {
            throw new IOException($"cluster port {host}:{port} is already in use (another mesh-node?): choose another with --port", e);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.AccessDenied or SocketError.AddressNotAvailable)
        {
            throw new IOException($"cluster port {host}:{port} cannot be used ({e.Message}): choose another --host or --port", e);
        }
    }
}
