# Reference values for pooled inference over multiply imputed data
# (lerendtransformeren.multilevel.pool / pool_wald / rubin).
#
# 1. Makes a small nested data set (30 groups of 5-10 rows, a row covariate x with about
#    25% missing values, a group covariate z), imputes x with mice (pmm, m = 5, seed 20261204)
#    and writes data.csv (with the missing values) and imp1.csv .. imp5.csv.
# 2. Fits lmerTest::lmer(y ~ x + z + (1 | g)) (REML, Satterthwaite df) on every imputed set
#    and stores each fit's estimates, covariance matrix (vcov), standard errors and df, and
#    the variance components (VarCorr).
# 3. Stores mitml::testEstimates(fits, extra.pars = TRUE) with df.com = NULL, with a number
#    and with a per-term vector (the mean Satterthwaite df per term); mice's rules
#    (mice::pool.scalar, which mice::pool applies per term) with dfcom = the same number and
#    dfcom = Inf; mitml::testModels(fit, fit0, method = "D1")
#    (fit0 without x and z) with df.com = NULL and with the number.
# Output: reference.json next to this script. Run from the repository root:
#
#   Rscript tests/reference/pooling/make_reference.R
#
# Versions used: see the "versions" entry of reference.json.
suppressPackageStartupMessages({
  library(lme4); library(lmerTest); library(mice); library(mitml); library(jsonlite)
})
here <- "tests/reference/pooling"

set.seed(20261204)
G <- 30
sizes <- sample(5:10, G, replace = TRUE)
g <- rep(sprintf("G%02d", seq_len(G)), sizes)
z <- rep(round(rnorm(G), 3), sizes)
u <- rep(rnorm(G, sd = 0.6), sizes)
n <- length(g)
x <- round(rnorm(n, mean = 0.4 * z), 3)
y <- round(1 + 0.5 * x + 0.3 * z + u + rnorm(n), 3)
x[runif(n) < plogis(-1.2 + 0.6 * y)] <- NA   # missing at random given y
d <- data.frame(g = g, z = z, x = x, y = y)
write.csv(d, file.path(here, "data.csv"), row.names = FALSE, na = "")

m <- 5
pred <- make.predictorMatrix(d)
pred[, "g"] <- 0
imp <- mice(d, m = m, method = c("", "", "pmm", ""), predictorMatrix = pred,
            seed = 20261204, printFlag = FALSE)
sets <- lapply(seq_len(m), function(i) complete(imp, i))
for (i in seq_len(m)) write.csv(sets[[i]], file.path(here, sprintf("imp%d.csv", i)), row.names = FALSE)

ctrl <- lmerControl(optimizer = "nloptwrap", optCtrl = list(xtol_abs = 1e-10, ftol_abs = 1e-12, maxeval = 1e5))
fits <- lapply(sets, function(s) lmer(y ~ x + z + (1 | g), data = s, REML = TRUE, control = ctrl))
fits0 <- lapply(sets, function(s) lmer(y ~ 1 + (1 | g), data = s, REML = TRUE, control = ctrl))

per_fit <- lapply(fits, function(f) {
  co <- summary(f)$coefficients
  vc <- as.data.frame(VarCorr(f))
  list(term = rownames(co), estimate = unname(co[, "Estimate"]), se = unname(co[, "Std. Error"]),
       df = unname(co[, "df"]), vcov = unname(as.matrix(vcov(f))),
       variance = list(group = vc$grp, variance = vc$vcov))
})

tab <- function(x) {
  x <- unclass(x)
  list(term = rownames(x), estimate = unname(x[, "Estimate"]), se = unname(x[, "Std.Error"]),
       t = unname(x[, "t.value"]), df = unname(x[, "df"]), p = unname(x[, "P(>|t|)"]),
       riv = unname(x[, "RIV"]), fmi = unname(x[, "FMI"]))
}
dfcom <- 100
dfvec <- Reduce(`+`, lapply(per_fit, `[[`, "df")) / m
te_null <- testEstimates(fits, extra.pars = TRUE)
te_num <- testEstimates(fits, df.com = dfcom)
te_vec <- testEstimates(fits, df.com = dfvec)
ep <- unclass(te_null$extra.pars)

# mice::pool() needs broom.mixed for lmer fits (not installed); mice::pool.scalar applies the
# same rules (barnard.rubin, fmi) per term, with dfcom = n - k.
mp <- function(dfc) {
  terms <- per_fit[[1]]$term
  rows <- lapply(seq_along(terms), function(j) {
    Q <- sapply(per_fit, function(f) f$estimate[j]); U <- sapply(per_fit, function(f) f$se[j]^2)
    pool.scalar(Q, U, n = dfc + 1, k = 1)
  })
  get <- function(name) sapply(rows, `[[`, name)
  list(term = terms, estimate = get("qbar"), ubar = get("ubar"), b = get("b"), t = get("t"),
       df = get("df"), riv = get("r"), lambda = (1 + 1 / m) * get("b") / get("t"), fmi = get("fmi"))
}
d1 <- function(dfc) {
  x <- testModels(fits, fits0, method = "D1", df.com = dfc)$test
  list(F = x[1, "F.value"], df1 = x[1, "df1"], df2 = x[1, "df2"], p = x[1, "P(>F)"], riv = x[1, "RIV"])
}

out <- list(
  versions = list(R = as.character(getRversion()), lme4 = as.character(packageVersion("lme4")),
                  lmerTest = as.character(packageVersion("lmerTest")),
                  mice = as.character(packageVersion("mice")), mitml = as.character(packageVersion("mitml"))),
  formula = "y ~ x + z + (1 | g)", m = m, df_com = dfcom, df_com_vector = dfvec,
  fits = per_fit,
  mitml_null = tab(te_null$estimates), mitml_number = tab(te_num$estimates),
  mitml_vector = tab(te_vec$estimates),
  mitml_extra = list(name = rownames(ep), estimate = unname(ep[, 1])),
  mice_number = mp(dfcom), mice_inf = mp(Inf),
  d1_null = d1(NULL), d1_number = d1(dfcom)
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE), file.path(here, "reference.json"))
