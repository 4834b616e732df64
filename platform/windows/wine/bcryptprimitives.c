/* A stand-in for Windows' bcryptprimitives.dll, for Wine < 8.13 only.
 *
 * Rust's standard library (since 1.78) draws its random numbers from
 * ProcessPrng in bcryptprimitives.dll. Windows 10 and later have it; Wine
 * added it in 8.13, and Debian 12 ships Wine 8.0, where every Rust .exe
 * fails to start ("bcryptprimitives.dll not found", exit 53).
 * scripts/windows-check builds this file with MinGW into the Wine prefix
 * used by CI; it is never shipped to users. RtlGenRandom (advapi32's
 * SystemFunction036) is Wine's own CSPRNG.
 */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!RtlGenRandom(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
