/* A PKCS#11 module that puts a retry counter in front of SoftHSM2, which has none (SoftHSMv2
 * issues #221 and #399: it leaves lockout to middleware). Like a USB token, the user PIN locks after
 * LOCKING_TOKEN_TRIES wrong tries in a row (default 3) and the token's flags say so: user PIN count
 * low after one, final try before the last, locked after it. With LOCKING_TOKEN_HIDE_FLAGS set it
 * keeps the flags to itself, as some tokens do, and only C_Login answers CKR_PIN_LOCKED.
 *
 * The count lives in the file LOCKING_TOKEN_STATE, so it survives between processes like a token's.
 * Everything else is SoftHSM2's own (LOCKING_TOKEN_MODULE, default Debian's path). Only the tests
 * build it: cc -shared -fPIC -o locking_token.so locking_token.c -ldl */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef unsigned long CK_ULONG;
typedef CK_ULONG CK_RV;
typedef struct { unsigned char major, minor; } CK_VERSION;
typedef CK_RV (*CK_FUNCTION)();
/* PKCS#11 v2.40's CK_FUNCTION_LIST: a version and 68 function pointers, in the standard's order. */
typedef struct { CK_VERSION version; CK_FUNCTION functions[68]; } CK_FUNCTION_LIST;
typedef CK_FUNCTION_LIST *CK_FUNCTION_LIST_PTR;

enum { GET_FUNCTION_LIST = 3, GET_TOKEN_INFO = 6, LOGIN = 18 };
#define CKR_OK 0x0UL
#define CKR_PIN_INCORRECT 0xA0UL
#define CKR_PIN_LOCKED 0xA4UL
#define CKU_USER 1UL
#define CKF_USER_PIN_COUNT_LOW 0x10000UL
#define CKF_USER_PIN_FINAL_TRY 0x20000UL
#define CKF_USER_PIN_LOCKED 0x40000UL
/* CK_TOKEN_INFO: label[32], manufacturerID[32], model[16], serialNumber[16], then flags. */
#define TOKEN_INFO_FLAGS_OFFSET 96

static CK_FUNCTION_LIST wrapped;
static CK_FUNCTION_LIST_PTR real;

static long tries(void) {
    const char *limit = getenv("LOCKING_TOKEN_TRIES");
    return limit ? atol(limit) : 3;
}

static long failures(void) {
    long count = 0;
    FILE *state = fopen(getenv("LOCKING_TOKEN_STATE"), "r");
    if (state) {
        if (fscanf(state, "%ld", &count) != 1) count = 0;
        fclose(state);
    }
    return count;
}

static void set_failures(long count) {
    FILE *state = fopen(getenv("LOCKING_TOKEN_STATE"), "w");
    if (state) {
        fprintf(state, "%ld\n", count);
        fclose(state);
    }
}

static CK_RV login(CK_ULONG session, CK_ULONG user_type, unsigned char *pin, CK_ULONG length) {
    if (user_type != CKU_USER) return real->functions[LOGIN](session, user_type, pin, length);
    if (failures() >= tries()) return CKR_PIN_LOCKED;
    CK_RV rv = real->functions[LOGIN](session, user_type, pin, length);
    if (rv == CKR_PIN_INCORRECT) set_failures(failures() + 1);
    else if (rv == CKR_OK) set_failures(0);
    return rv;
}

static CK_RV get_token_info(CK_ULONG slot, unsigned char *info) {
    CK_RV rv = real->functions[GET_TOKEN_INFO](slot, info);
    if (rv != CKR_OK || getenv("LOCKING_TOKEN_HIDE_FLAGS")) return rv;
    long count = failures();
    CK_ULONG *flags = (CK_ULONG *)(info + TOKEN_INFO_FLAGS_OFFSET);
    if (count >= tries()) *flags |= CKF_USER_PIN_LOCKED;
    else if (count == tries() - 1) *flags |= CKF_USER_PIN_FINAL_TRY | CKF_USER_PIN_COUNT_LOW;
    else if (count > 0) *flags |= CKF_USER_PIN_COUNT_LOW;
    return rv;
}

CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR *list) {
    if (!real) {
        const char *path = getenv("LOCKING_TOKEN_MODULE");
        void *module = dlopen(path ? path : "/usr/lib/softhsm/libsofthsm2.so", RTLD_NOW | RTLD_LOCAL);
        if (!module) return 0x5UL; /* CKR_GENERAL_ERROR */
        CK_RV (*get)(CK_FUNCTION_LIST_PTR *) = (CK_RV (*)(CK_FUNCTION_LIST_PTR *))dlsym(module, "C_GetFunctionList");
        if (!get || get(&real) != CKR_OK) return 0x5UL;
        memcpy(&wrapped, real, sizeof wrapped);
        wrapped.version.major = 2;
        wrapped.version.minor = 40;
        wrapped.functions[GET_FUNCTION_LIST] = (CK_FUNCTION)C_GetFunctionList;
        wrapped.functions[GET_TOKEN_INFO] = (CK_FUNCTION)get_token_info;
        wrapped.functions[LOGIN] = (CK_FUNCTION)login;
    }
    *list = &wrapped;
    return CKR_OK;
}
