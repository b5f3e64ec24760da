using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Mesh.Node.Service;

/// <summary>
/// The sd_notify protocol without libsystemd: one datagram of <c>KEY=value</c> lines to the unix
/// socket systemd names in <c>NOTIFY_SOCKET</c> (a path, or <c>@name</c> in the abstract namespace).
/// </summary>
public sealed class SystemdNotify : IDisposable
{
    public const string Variable = "NOTIFY_SOCKET";

    private readonly Socket _socket = new(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    private readonly UnixDomainSocketEndPoint _endpoint;
    private readonly Lock _lock = new();

    public SystemdNotify(string socket) =>
        _endpoint = new UnixDomainSocketEndPoint(socket.StartsWith('@') ? "\0" + socket[1..] : socket);

    /// <summary>
    /// The socket systemd gave this process, or null when it runs without one. The variable is
    /// then removed, as sd_notify's unset_environment does: commands the node runs for exec
    /// resources must not talk to systemd on its behalf.
    /// </summary>
    public static SystemdNotify? FromEnvironment()
    {
        var socket = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrEmpty(socket)) return null;
        Environment.SetEnvironmentVariable(Variable, null);
        return new SystemdNotify(socket);
    }

    /// <summary>Sends one notification. Never throws: a service manager that went away must not stop the node.</summary>
    public void Send(params string[] assignments)
    {
        var datagram = Encoding.UTF8.GetBytes(string.Join('\n', assignments) + "\n");
        lock (_lock)
        {
            try
            {
                _socket.SendTo(datagram, _endpoint);
            }
            catch (SocketException)
            {
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    /// <summary><c>MONOTONIC_USEC</c>, which <c>RELOADING=1</c> must carry under <c>Type=notify-reload</c>: CLOCK_MONOTONIC in microseconds.</summary>
    public static string MonotonicUsec() => $"MONOTONIC_USEC={Stopwatch.GetTimestamp() / (Stopwatch.Frequency / 1_000_000)}";

    public void Dispose()
    {
        lock (_lock) _socket.Dispose();
    }
}
