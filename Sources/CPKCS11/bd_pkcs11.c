#include "bd_pkcs11.h"

#include <dlfcn.h>
#include <stdio.h>

typedef BD_CK_RV (*BD_C_GetFunctionList)(BD_CK_FUNCTION_LIST **ppFunctionList);

BD_CK_FUNCTION_LIST *bd_pkcs11_load(const char *path, char *error, size_t errorSize) {
    void *module = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (module == NULL) {
        const char *reason = dlerror();
        snprintf(error, errorSize, "%s", reason ? reason : "dlopen failed");
        return NULL;
    }
    BD_C_GetFunctionList getFunctionList = (BD_C_GetFunctionList)dlsym(module, "C_GetFunctionList");
    if (getFunctionList == NULL) {
        snprintf(error, errorSize, "%s has no C_GetFunctionList: it is not a PKCS#11 module", path);
        dlclose(module);
        return NULL;
    }
    BD_CK_FUNCTION_LIST *list = NULL;
    BD_CK_RV rv = getFunctionList(&list);
    if (rv != BD_CKR_OK || list == NULL) {
        snprintf(error, errorSize, "C_GetFunctionList failed (CKR 0x%lx)", (unsigned long)rv);
        dlclose(module);
        return NULL;
    }
    /* The module stays loaded for the life of the process: its keys sign until exit. */
    return list;
}
