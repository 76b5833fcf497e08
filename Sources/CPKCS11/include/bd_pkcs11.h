/*
 * The part of the PKCS#11 (Cryptoki) v2.40 interface that BizDirect's signer uses, declared here
 * so that the build needs no vendor header. Every name carries the BD_ prefix so that it can
 * never clash with a real <pkcs11.h>; `.ci/check-pkcs11-header` compiles these declarations
 * beside the real header from Debian's libp11-kit-dev and asserts that every size, offset and
 * constant is the same.
 *
 * Platform: Linux and macOS (CK_ULONG is unsigned long, structures use the native packing).
 */
#ifndef BD_PKCS11_H
#define BD_PKCS11_H

#include <stddef.h>

typedef unsigned long BD_CK_ULONG;
typedef BD_CK_ULONG BD_CK_RV;
typedef BD_CK_ULONG BD_CK_SLOT_ID;
typedef BD_CK_ULONG BD_CK_SESSION_HANDLE;
typedef BD_CK_ULONG BD_CK_OBJECT_HANDLE;
typedef BD_CK_ULONG BD_CK_FLAGS;
typedef BD_CK_ULONG BD_CK_ATTRIBUTE_TYPE;
typedef BD_CK_ULONG BD_CK_MECHANISM_TYPE;
typedef BD_CK_ULONG BD_CK_USER_TYPE;
typedef unsigned char BD_CK_BBOOL;

typedef struct BD_CK_VERSION { unsigned char major; unsigned char minor; } BD_CK_VERSION;

typedef struct BD_CK_ATTRIBUTE {
    BD_CK_ATTRIBUTE_TYPE type;
    void *pValue;
    BD_CK_ULONG ulValueLen;
} BD_CK_ATTRIBUTE;

typedef struct BD_CK_MECHANISM {
    BD_CK_MECHANISM_TYPE mechanism;
    void *pParameter;
    BD_CK_ULONG ulParameterLen;
} BD_CK_MECHANISM;

typedef struct BD_CK_TOKEN_INFO {
    unsigned char label[32];
    unsigned char manufacturerID[32];
    unsigned char model[16];
    unsigned char serialNumber[16];
    BD_CK_FLAGS flags;
    BD_CK_ULONG ulMaxSessionCount;
    BD_CK_ULONG ulSessionCount;
    BD_CK_ULONG ulMaxRwSessionCount;
    BD_CK_ULONG ulRwSessionCount;
    BD_CK_ULONG ulMaxPinLen;
    BD_CK_ULONG ulMinPinLen;
    BD_CK_ULONG ulTotalPublicMemory;
    BD_CK_ULONG ulFreePublicMemory;
    BD_CK_ULONG ulTotalPrivateMemory;
    BD_CK_ULONG ulFreePrivateMemory;
    BD_CK_VERSION hardwareVersion;
    BD_CK_VERSION firmwareVersion;
    unsigned char utcTime[16];
} BD_CK_TOKEN_INFO;

typedef struct BD_CK_C_INITIALIZE_ARGS {
    void *CreateMutex;
    void *DestroyMutex;
    void *LockMutex;
    void *UnlockMutex;
    BD_CK_FLAGS flags;
    void *pReserved;
} BD_CK_C_INITIALIZE_ARGS;

typedef BD_CK_RV (*BD_C_Initialize)(void *pInitArgs);
typedef BD_CK_RV (*BD_C_Finalize)(void *pReserved);
typedef BD_CK_RV (*BD_C_GetSlotList)(BD_CK_BBOOL tokenPresent, BD_CK_SLOT_ID *pSlotList, BD_CK_ULONG *pulCount);
typedef BD_CK_RV (*BD_C_GetTokenInfo)(BD_CK_SLOT_ID slotID, BD_CK_TOKEN_INFO *pInfo);
typedef BD_CK_RV (*BD_C_OpenSession)(BD_CK_SLOT_ID slotID, BD_CK_FLAGS flags, void *pApplication, void *Notify,
                                     BD_CK_SESSION_HANDLE *phSession);
typedef BD_CK_RV (*BD_C_CloseSession)(BD_CK_SESSION_HANDLE hSession);
typedef BD_CK_RV (*BD_C_Login)(BD_CK_SESSION_HANDLE hSession, BD_CK_USER_TYPE userType, unsigned char *pPin, BD_CK_ULONG ulPinLen);
typedef BD_CK_RV (*BD_C_GetAttributeValue)(BD_CK_SESSION_HANDLE hSession, BD_CK_OBJECT_HANDLE hObject,
                                           BD_CK_ATTRIBUTE *pTemplate, BD_CK_ULONG ulCount);
typedef BD_CK_RV (*BD_C_FindObjectsInit)(BD_CK_SESSION_HANDLE hSession, BD_CK_ATTRIBUTE *pTemplate, BD_CK_ULONG ulCount);
typedef BD_CK_RV (*BD_C_FindObjects)(BD_CK_SESSION_HANDLE hSession, BD_CK_OBJECT_HANDLE *phObject, BD_CK_ULONG ulMaxObjectCount,
                                     BD_CK_ULONG *pulObjectCount);
typedef BD_CK_RV (*BD_C_FindObjectsFinal)(BD_CK_SESSION_HANDLE hSession);
typedef BD_CK_RV (*BD_C_SignInit)(BD_CK_SESSION_HANDLE hSession, BD_CK_MECHANISM *pMechanism, BD_CK_OBJECT_HANDLE hKey);
typedef BD_CK_RV (*BD_C_Sign)(BD_CK_SESSION_HANDLE hSession, unsigned char *pData, BD_CK_ULONG ulDataLen,
                              unsigned char *pSignature, BD_CK_ULONG *pulSignatureLen);

/* CK_FUNCTION_LIST in the standard's order; entries BizDirect does not call are opaque pointers. */
typedef struct BD_CK_FUNCTION_LIST {
    BD_CK_VERSION version;
    BD_C_Initialize C_Initialize;
    BD_C_Finalize C_Finalize;
    void *C_GetInfo;
    void *C_GetFunctionList;
    BD_C_GetSlotList C_GetSlotList;
    void *C_GetSlotInfo;
    BD_C_GetTokenInfo C_GetTokenInfo;
    void *C_GetMechanismList;
    void *C_GetMechanismInfo;
    void *C_InitToken;
    void *C_InitPIN;
    void *C_SetPIN;
    BD_C_OpenSession C_OpenSession;
    BD_C_CloseSession C_CloseSession;
    void *C_CloseAllSessions;
    void *C_GetSessionInfo;
    void *C_GetOperationState;
    void *C_SetOperationState;
    BD_C_Login C_Login;
    void *C_Logout;
    void *C_CreateObject;
    void *C_CopyObject;
    void *C_DestroyObject;
    void *C_GetObjectSize;
    BD_C_GetAttributeValue C_GetAttributeValue;
    void *C_SetAttributeValue;
    BD_C_FindObjectsInit C_FindObjectsInit;
    BD_C_FindObjects C_FindObjects;
    BD_C_FindObjectsFinal C_FindObjectsFinal;
    void *C_EncryptInit;
    void *C_Encrypt;
    void *C_EncryptUpdate;
    void *C_EncryptFinal;
    void *C_DecryptInit;
    void *C_Decrypt;
    void *C_DecryptUpdate;
    void *C_DecryptFinal;
    void *C_DigestInit;
    void *C_Digest;
    void *C_DigestUpdate;
    void *C_DigestKey;
    void *C_DigestFinal;
    BD_C_SignInit C_SignInit;
    BD_C_Sign C_Sign;
    void *C_SignUpdate;
    void *C_SignFinal;
    void *C_SignRecoverInit;
    void *C_SignRecover;
    void *C_VerifyInit;
    void *C_Verify;
    void *C_VerifyUpdate;
    void *C_VerifyFinal;
    void *C_VerifyRecoverInit;
    void *C_VerifyRecover;
    void *C_DigestEncryptUpdate;
    void *C_DecryptDigestUpdate;
    void *C_SignEncryptUpdate;
    void *C_DecryptVerifyUpdate;
    void *C_GenerateKey;
    void *C_GenerateKeyPair;
    void *C_WrapKey;
    void *C_UnwrapKey;
    void *C_DeriveKey;
    void *C_SeedRandom;
    void *C_GenerateRandom;
    void *C_GetFunctionStatus;
    void *C_CancelFunction;
    void *C_WaitForSlotEvent;
} BD_CK_FUNCTION_LIST;

enum {
    BD_CKR_OK = 0x0,
    BD_CKR_PIN_INCORRECT = 0xA0,
    BD_CKR_PIN_LOCKED = 0xA4,
    BD_CKR_USER_ALREADY_LOGGED_IN = 0x100,
    BD_CKR_BUFFER_TOO_SMALL = 0x150,
    BD_CKR_CRYPTOKI_ALREADY_INITIALIZED = 0x191,
};

enum {
    BD_CKF_OS_LOCKING_OK = 0x2,
    BD_CKF_RW_SESSION = 0x2,
    BD_CKF_SERIAL_SESSION = 0x4,
    BD_CKU_USER = 1,
    BD_CKO_PUBLIC_KEY = 2,
    BD_CKO_PRIVATE_KEY = 3,
    BD_CKK_EC = 3,
    BD_CKA_CLASS = 0x0,
    BD_CKA_LABEL = 0x3,
    BD_CKA_KEY_TYPE = 0x100,
    BD_CKA_EC_PARAMS = 0x180,
    BD_CKA_EC_POINT = 0x181,
    BD_CKM_ECDSA = 0x1041,
};

/*
 * Loads the module at `path` with dlopen (RTLD_NOW | RTLD_LOCAL) and returns its function list
 * from C_GetFunctionList, or NULL with a message in `error` (at most `errorSize` bytes).
 */
BD_CK_FUNCTION_LIST *bd_pkcs11_load(const char *path, char *error, size_t errorSize);

#endif
