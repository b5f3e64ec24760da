using System.Net;
using System.Net.Sockets;

namespace Mesh.Node.Tests.Support;

public static class Ports
{
    /// <summary>A free loopback TCP port, as the OS hands it out.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
