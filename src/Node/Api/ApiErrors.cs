using Mesh.Node.Content;
using Mesh.Node.Operations;
using Mesh.Node.Replication;
using Mesh.Protocol.Api;
using Mesh.Protocol.Manifests;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;

namespace Mesh.Node.Api;

/// <summary>
/// The control API's one error mapping: every failure of every route becomes an
/// <see cref="ApiError"/> with one status for one cause. Handlers throw; nothing else catches.
/// </summary>
public static class ApiErrors
{
    /// <summary>The status and body for an exception a route let out, or null for one nobody expected (a bug: 500).</summary>
    public static (int Status, ApiError Error)? Map(Exception e) => e switch
    {
        ManifestException m => (422, new ApiError($"{m.Errors.Count} error(s) in the manifests; nothing was pushed", m.Errors.ToArray())),
        BadHttpRequestException b => (b.StatusCode, new ApiError(b.Message)),
        PushDeniedException or Tasks.TaskDeniedException => (403, new ApiError(e.Message)),
        NoSuchMemberException => (404, new ApiError(e.Message)),
        PushConflictException => (409, new ApiError(e.Message)),
        ArgumentException => (400, new ApiError(e.Message)),
        // The node's data directory is full: nothing was recorded; the message names the file.
        DiskFullException => (507, new ApiError($"{e.Message}; nothing was recorded, free space on the node and retry")),
        // This node cannot serve the request now: its store, its actors, or no peer with the body.
        StoreUnavailableException or BlobUnavailableException => (503, new ApiError(e.Message)),
        Akka.Actor.AskTimeoutException => (503, new ApiError("the node did not answer in time (overloaded?); retry")),
        // Other members did not answer.
        SilentMembersException => (504, new ApiError(e.Message)),
        _ => null,
    };

    /// <summary>Runs the request; whatever it throws before answering is mapped (and logged when unexpected or a timeout).</summary>
    public static Func<HttpContext, RequestDelegate, Task> Middleware(ILogger log) => async (context, next) =>
    {
        try
        {
            await next(context);
        }
        // A request whose client went away gets no answer to an unexpected failure: nobody reads it.
        catch (Exception e) when (!context.Response.HasStarted && (Map(e) is not null || !context.RequestAborted.IsCancellationRequested))
        {
            var request = $"{context.Request.Method} {context.Request.Path}";
            if (Map(e) is not var (status, error))
            {
                log.LogError(e, "{Request} failed", request);
                (status, error) = (500, new ApiError($"internal error ({e.GetType().Name}: {e.Message}); the node's log has the details"));
            }
            else if (status is 503 or 504 or 507) log.LogWarning("{Request}: {Error}", request, error.Error);
            await WriteAsync(context, status, error);
        }
    };

    /// <summary>An answer with an error status and no body (no route, wrong method, …) gets an <see cref="ApiError"/> that says why.</summary>
    public static Task EmptyAnswer(StatusCodeContext status)
    {
        var context = status.HttpContext;
        var code = context.Response.StatusCode;
        var request = $"{context.Request.Method} {context.Request.Path}";
        return WriteAsync(context, code, new ApiError(code switch
        {
            404 => $"no such endpoint: {request}; the API lives under /v1/",
            405 => $"{request}: method not allowed; this endpoint takes {context.Response.Headers.Allow}",
            _ => $"{request}: {code} {ReasonPhrases.GetReasonPhrase(code)}",
        }));
    }

    /// <summary>An answer a handler gives itself (nothing found, say).</summary>
    public static IResult Result(int status, string message) => Results.Json(new ApiError(message), ApiJson.Options, statusCode: status);

    public static Task WriteAsync(HttpContext context, int status, ApiError error)
    {
        context.Response.StatusCode = status;
        return context.Response.WriteAsJsonAsync(error, ApiJson.Options);
    }
}
