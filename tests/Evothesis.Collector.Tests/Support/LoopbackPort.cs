using System.Net;
using System.Net.Sockets;

namespace Evothesis.Collector.Tests.Support;

/// <summary>Free TCP ports on loopback, for the servers and hosts the tests start.</summary>
public static class LoopbackPort
{
    /// <summary>A port nobody listens on right now (the operating system's pick).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
